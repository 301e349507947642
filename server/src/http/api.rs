//! Baton's REST API for programs, authenticated with a personal API token:
//! `Authorization: Bearer <token>` (see `baton token create`). Tokens follow the
//! browser's rules: a deactivated account or a password change voids them at once.

use axum::Json;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::Serialize;

use super::error::HttpError;

/// The account a request's bearer token belongs to.
pub struct ApiUser(pub backend::users::User);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let services = backend::Services::from_ref(state);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| HttpError::Unauthorized("an API token is required".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.get(..7)
                    .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                    .map(|_| h[7..].trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                HttpError::Unauthorized("use the header Authorization: Bearer <token>".into())
            })?;
        backend::accounts::authenticate_token(&services.db, token)
            .await?
            .map(ApiUser)
            .ok_or_else(|| HttpError::Unauthorized("the API token is not valid".into()))
    }
}

/// The token's account, as programs see it.
#[derive(Serialize)]
pub struct Account {
    pub id: i64,
    /// The id Botpress sees for this person (`remoteUserId`).
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// `GET /api/v1/me`: who this token belongs to.
pub async fn me(ApiUser(user): ApiUser) -> Json<Account> {
    Json(Account {
        id: user.id,
        public_id: user.public_id,
        email: user.email,
        name: user.name,
        role: user.role,
    })
}
