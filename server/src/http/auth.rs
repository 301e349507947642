//! The extractors that say who is calling an HTTP route, over `backend::auth` (the one
//! place that answers it for REST, attachments, the websocket and server functions).
//!
//! - [`ApiUser`]: a personal API token's account (the REST API);
//! - [`ApiAdmin`]: the same, and an admin;
//! - [`AnyCaller`]: a token if one is sent, else the browser's session (attachments,
//!   the websocket). Cross-site browser requests are refused before this by the
//!   Origin check (`security`).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use backend::auth::{Accept, AuthSession, Caller};

use super::error::HttpError;

async fn resolve<S>(parts: &Parts, state: &S, accept: Accept) -> Result<Caller, HttpError>
where
    backend::Services: FromRef<S>,
{
    let services = backend::Services::from_ref(state);
    let session = parts.extensions.get::<AuthSession>();
    Ok(backend::auth::caller(&services, &parts.headers, session, accept).await?)
}

/// The account a request's bearer token belongs to.
pub struct ApiUser(pub backend::users::User);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        Ok(ApiUser(resolve(parts, state, Accept::Token).await?.user))
    }
}

/// An [`ApiUser`] who is an admin; an agent's token gets 403.
pub struct ApiAdmin(pub backend::users::User);

impl<S> FromRequestParts<S> for ApiAdmin
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let caller = resolve(parts, state, Accept::Token).await?;
        Ok(ApiAdmin(caller.admin("this needs an admin's token")?.user))
    }
}

/// Whoever calls with a token, or else with the browser's session.
pub struct AnyCaller(pub Caller);

impl<S> FromRequestParts<S> for AnyCaller
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        Ok(AnyCaller(
            resolve(parts, state, Accept::TokenOrSession).await?,
        ))
    }
}
