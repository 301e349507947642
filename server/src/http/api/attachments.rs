//! Sending a file to the customer: the REST route programs use with a token, and the
//! composer with the browser's session. Files are served by `http::files`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use protocol::ticket::Delivery;
use serde::Deserialize;

use super::tickets::Sent;
use crate::http::auth::AnyCaller;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiQuery;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Upload {
    /// The file's name, as the customer will see it.
    name: Option<String>,
}

/// Sends a file to the customer: the body is the file itself, `Content-Type` its
/// type. It goes out as an image, audio, video or file message by that type, with a
/// public URL Botpress can fetch. Limits (size, allowed types) are settings.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/attachments", tag = "rest",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The ticket id Baton returned to Botpress"),
        Upload,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "The file; send its real type as Content-Type"),
    responses(
        (status = 201, description = "Stored and queued for delivery", body = Sent),
        (status = 400, description = "Empty, or a type that is not allowed", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 404, description = "No such ticket"),
        (status = 409, description = "The ticket is closed or not yours", body = ErrorBody),
        (status = 413, description = "Larger than the limit", body = ErrorBody),
    )
)]
pub async fn upload(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<Upload>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Sent>), HttpError> {
    let ticket =
        backend::tickets::views::find_by_remote_id(&*services.store, caller.user.id, &id).await?;
    let limit = services.settings.attachments.max_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| HttpError::TooLarge(limit / 1024))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = params.name.as_deref().unwrap_or("file");
    let message = backend::attachments::send(
        &services,
        ticket,
        caller.user.id,
        name,
        content_type,
        &bytes,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            id: message,
            delivery: Delivery::Pending,
        }),
    ))
}
