//! Canned replies over REST: the token's owner's own, and the shared ones (which only
//! admins change).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use backend::auth::ClientAddr;
use serde::{Deserialize, Serialize};

use crate::http::auth::ApiUser;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiJson;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CannedReply {
    pub id: i64,
    /// Typed after `/` in the composer (without the slash).
    pub shortcut: String,
    /// The text, with variables such as `{{customer.name}}` filled in when used.
    pub body: String,
    /// Offered to everyone and changed by admins only; else the token owner's own.
    pub shared: bool,
    /// UTC milliseconds since the Unix epoch.
    pub updated_at: i64,
}

impl From<backend::canned::Reply> for CannedReply {
    fn from(r: backend::canned::Reply) -> Self {
        Self {
            id: r.id,
            shortcut: r.shortcut,
            body: r.body,
            shared: r.shared,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedReply {
    /// 1 to 32 letters, digits, `-` and `_`.
    pub shortcut: String,
    /// Up to 5,000 characters. Variables: `{{customer.name}}`, `{{customer.email}}`,
    /// `{{agent.name}}`, `{{ticket.title}}`; any other is refused.
    pub body: String,
    /// A team reply (admins only); else a personal one.
    #[serde(default)]
    pub shared: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyChange {
    pub shortcut: Option<String>,
    pub body: Option<String>,
}

/// The replies the token's owner is offered: their own, then the shared ones.
#[utoipa::path(
    get, path = "/api/v1/canned-replies", tag = "rest",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replies", body = [CannedReply]),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn list(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
) -> Result<Json<Vec<CannedReply>>, HttpError> {
    let replies = backend::canned::list(&*services.store, &user).await?;
    Ok(Json(replies.into_iter().map(CannedReply::from).collect()))
}

/// Saves a new reply: a personal one, or with `shared` a team one (admins only).
#[utoipa::path(
    post, path = "/api/v1/canned-replies", tag = "rest",
    security(("bearer" = [])),
    request_body = NewCannedReply,
    responses(
        (status = 201, description = "Saved", body = CannedReply),
        (status = 400, description = "A bad shortcut, an empty or too long body, an unknown variable", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A shared reply from an agent's token", body = ErrorBody),
        (status = 409, description = "The shortcut is taken", body = ErrorBody),
    )
)]
pub async fn create(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    ApiJson(body): ApiJson<NewCannedReply>,
) -> Result<(StatusCode, Json<CannedReply>), HttpError> {
    let actor = super::actor(&user, addr);
    let draft = backend::canned::Draft {
        shortcut: body.shortcut,
        body: body.body,
    };
    let reply =
        backend::canned::create(&*services.store, &user, &actor, &draft, body.shared).await?;
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// A reply's id from the path: anything but a number names no reply.
fn reply_id(raw: &str) -> Result<i64, HttpError> {
    raw.parse().map_err(|_| HttpError::NotFound)
}

/// Changes a reply's shortcut or body. Shared replies: admins only.
#[utoipa::path(
    patch, path = "/api/v1/canned-replies/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The reply's id")),
    request_body = CannedReplyChange,
    responses(
        (status = 200, description = "Saved", body = CannedReply),
        (status = 400, description = "A bad shortcut, an empty or too long body, an unknown variable", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A shared reply, from an agent's token", body = ErrorBody),
        (status = 404, description = "No such reply (or another agent's own)"),
        (status = 409, description = "The shortcut is taken", body = ErrorBody),
    )
)]
pub async fn update(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CannedReplyChange>,
) -> Result<Json<CannedReply>, HttpError> {
    let id = reply_id(&id)?;
    let actor = super::actor(&user, addr);
    let reply = backend::canned::update(
        &*services.store,
        &user,
        &actor,
        id,
        body.shortcut,
        body.body,
    )
    .await?;
    Ok(Json(reply.into()))
}

/// Deletes a reply. Shared replies: admins only.
#[utoipa::path(
    delete, path = "/api/v1/canned-replies/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The reply's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A shared reply, from an agent's token", body = ErrorBody),
        (status = 404, description = "No such reply (or another agent's own)"),
    )
)]
pub async fn delete(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = reply_id(&id)?;
    let actor = super::actor(&user, addr);
    backend::canned::delete(&*services.store, &user, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
