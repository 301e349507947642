//! Who is calling: one answer for every door into Baton.
//!
//! People sign in through the browser (a session cookie, see `session`); programs
//! send a personal API token (`Authorization: Bearer …`). Every server-side entry
//! point asks [`caller`] the same question: the REST API and attachment routes, the
//! websocket, and (through the session) the server functions. The answer is a
//! [`Caller`]: the account, the credential it came with, and the account's auth
//! epoch, which revocation compares later (see `realtime::revocation`). A
//! deactivated account, a voided token and a malformed header all end here.

pub mod session;

use http::HeaderMap;
use http::header::AUTHORIZATION;

pub use session::{AuthBackend, AuthSession, Credentials, SessionUser, overloaded};

use crate::users::{Role, User};
use crate::{Error, Result, Services, accounts};

/// The address a request came from: the TCP peer, or the client that a trusted
/// reverse proxy names. The server works it out once per request and attaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// How a caller authenticated, so revocation can tell when that stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (its id, for sign-out).
    Session(String),
    /// A personal API token (its row id, for revocation).
    Token(i64),
}

/// An authenticated, active account and how it got in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The account's auth epoch when this was checked; a bump voids the caller.
    pub epoch: i64,
    pub credential: Credential,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// This caller, if an admin; else `NotAllowed` (403) with `refusal`.
    pub fn admin(self, refusal: &str) -> Result<Self> {
        if self.is_admin() {
            Ok(self)
        } else {
            Err(Error::NotAllowed(refusal.to_owned()))
        }
    }

    /// Came with the browser's session (so the cross-site checks apply).
    pub fn by_session(&self) -> bool {
        matches!(self.credential, Credential::Session(_))
    }
}

/// Which credentials an entry point accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Programs only: the REST API.
    Token,
    /// A token if one is sent, else the browser's session: attachments, the
    /// websocket.
    TokenOrSession,
}

/// The bearer token of a request: `None` without an `Authorization` header, an
/// error for one that is not `Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    header
        .to_str()
        .ok()
        .and_then(|h| {
            h.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .map(|_| h[7..].trim())
        })
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| {
            Error::Unauthenticated("use the header Authorization: Bearer <token>".into())
        })
}

/// Who is calling, by the request's headers and (where accepted) its session.
/// A token counts as use, for the people list's "last seen".
pub async fn caller(
    services: &Services,
    headers: &HeaderMap,
    session: Option<&AuthSession>,
    accept: Accept,
) -> Result<Caller> {
    if let Some(token) = bearer_token(headers)? {
        let invalid = || Error::Unauthenticated("the API token is not valid".into());
        let (user, token) = accounts::authenticate_token_id(&*services.store, token)
            .await?
            .ok_or_else(invalid)?;
        let epoch = accounts::current_epoch(&*services.store, user.id)
            .await?
            .ok_or_else(invalid)?;
        services.last_seen.touch(&*services.store, user.id).await?;
        return Ok(Caller {
            user,
            epoch,
            credential: Credential::Token(token),
        });
    }
    match accept {
        Accept::Token => Err(Error::Unauthenticated("an API token is required".into())),
        Accept::TokenOrSession => session
            .and_then(session_caller)
            .ok_or_else(|| Error::Unauthenticated("sign in or send an API token".into())),
    }
}

/// The session's signed-in account, if any (what server functions ask). axum-login
/// loaded it for this request, checked it is active and that its epoch is current.
pub fn session_caller(session: &AuthSession) -> Option<Caller> {
    let (user, id) = (session.user.as_ref()?, session.session.id()?);
    Some(Caller {
        user: user.user.clone(),
        epoch: user.epoch,
        credential: Credential::Session(id.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn only_bearer_headers_carry_a_token() {
        assert_eq!(bearer_token(&HeaderMap::new()).unwrap(), None);
        assert_eq!(bearer_token(&headers("Bearer abc")).unwrap(), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer  abc ")).unwrap(), Some("abc"));
        for bad in ["Basic abc", "Bearer ", "Bearer", "abc"] {
            assert!(
                matches!(bearer_token(&headers(bad)), Err(Error::Unauthenticated(_))),
                "{bad}"
            );
        }
    }
}
