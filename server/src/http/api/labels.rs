//! Labels over REST: the list, new ones (admins), and labels on tickets (anyone).
//! `GET /api/v1/tickets?label={id}` filters by one (see `tickets::list`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, extract};
use backend::auth::ClientAddr;
use serde::Deserialize;

use super::tickets::Label;
use crate::http::auth::{ApiAdmin, ApiUser};
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiJson;

/// Every label, by name.
#[utoipa::path(
    get, path = "/api/v1/labels", tag = "rest",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Labels", body = [Label]),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn list(
    ApiUser(_): ApiUser,
    State(services): State<backend::Services>,
) -> Result<Json<Vec<Label>>, HttpError> {
    let labels = backend::labels::list(&*services.store).await?;
    Ok(Json(labels.into_iter().map(Label::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// 1 to 40 characters, unique in any case.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
}

/// Defines a label (admins only; audited).
#[utoipa::path(
    post, path = "/api/v1/labels", tag = "rest",
    security(("bearer" = [])),
    request_body = NewLabel,
    responses(
        (status = 201, description = "Created", body = Label),
        (status = 400, description = "A bad name or colour", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 409, description = "A label with that name exists", body = ErrorBody),
    )
)]
pub async fn create(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    ApiJson(body): ApiJson<NewLabel>,
) -> Result<(StatusCode, Json<Label>), HttpError> {
    let actor = super::actor(&user, addr);
    let label =
        backend::labels::create(&*services.store, &user, &actor, &body.name, &body.colour).await?;
    Ok((StatusCode::CREATED, Json(label.into())))
}

/// The ticket and the label a path names; an id that is not a number names nothing.
async fn target(
    services: &backend::Services,
    viewer: i64,
    ticket: &str,
    label: &str,
) -> Result<(i64, i64), HttpError> {
    let label = label.parse().map_err(|_| HttpError::NotFound)?;
    let ticket =
        backend::tickets::views::find_by_remote_id(&*services.store, viewer, ticket).await?;
    Ok((ticket, label))
}

/// Puts a label on a ticket (any account). Doing it twice changes nothing.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/labels/{label_id}", tag = "rest",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The ticket id Baton returned to Botpress"),
        ("label_id" = i64, Path, description = "The label's id"),
    ),
    responses(
        (status = 204, description = "The ticket carries the label"),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such ticket or label"),
    )
)]
pub async fn add(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    extract::Path((ticket, label)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let (ticket, label) = target(&services, user.id, &ticket, &label).await?;
    backend::labels::add(&services, &user, ticket, label).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a label off a ticket (any account).
#[utoipa::path(
    delete, path = "/api/v1/tickets/{id}/labels/{label_id}", tag = "rest",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The ticket id Baton returned to Botpress"),
        ("label_id" = i64, Path, description = "The label's id"),
    ),
    responses(
        (status = 204, description = "The ticket does not carry the label"),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such ticket or label"),
    )
)]
pub async fn remove(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    extract::Path((ticket, label)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let (ticket, label) = target(&services, user.id, &ticket, &label).await?;
    backend::labels::remove(&services, &user, ticket, label).await?;
    Ok(StatusCode::NO_CONTENT)
}
