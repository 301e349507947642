//! Sign-in sessions, as axum-login sees them.
//!
//! A session stores the account id and a hash of (id, auth epoch). On every request
//! axum-login reloads the account and compares: a password change or deactivation
//! bumps the epoch, so every session of that account ends at once; a deactivated
//! account does not load at all.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::users::User;
use crate::{Error, accounts};

/// The signed-in account.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub user: User,
    /// The account's auth epoch, as loaded for this request.
    pub epoch: i64,
    auth_hash: Vec<u8>,
}

impl SessionUser {
    fn new(user: User, epoch: i64) -> Self {
        let auth_hash = format!("{}:{epoch}", user.id).into_bytes();
        Self {
            user,
            epoch,
            auth_hash,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == crate::users::Role::Admin
    }
}

impl axum_login::AuthUser for SessionUser {
    type Id = i64;

    fn id(&self) -> i64 {
        self.user.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// What a sign-in form sends.
#[derive(Clone, Deserialize, Serialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct AuthBackend {
    store: Arc<dyn store::Store>,
}

impl AuthBackend {
    pub fn new(store: Arc<dyn store::Store>) -> Self {
        Self { store }
    }
}

impl axum_login::AuthnBackend for AuthBackend {
    type User = SessionUser;
    type Credentials = Credentials;
    type Error = Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<SessionUser>, Error> {
        Ok(
            accounts::authenticate(&*self.store, &creds.email, creds.password)
                .await?
                .map(|c| SessionUser::new(c.user, c.auth_epoch)),
        )
    }

    async fn get_user(&self, id: &i64) -> Result<Option<SessionUser>, Error> {
        Ok(accounts::signed_in(&*self.store, *id)
            .await?
            .map(|c| SessionUser::new(c.user, c.auth_epoch)))
    }
}

/// Whether a sign-in check failed only because too many ran at once (the caller
/// answers "try again", and it is not the person's failure).
pub fn overloaded(e: &axum_login::Error<AuthBackend>) -> bool {
    matches!(e, axum_login::Error::Backend(Error::Overloaded))
}

/// The axum extractor for the current session's sign-in state.
pub type AuthSession = axum_login::AuthSession<AuthBackend>;
