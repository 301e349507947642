//! Sending a file to the customer: the REST route programs use with a token, and the
//! composer with the browser's session. Files are served by `http::files`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt;
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
///
/// Everything that can be refused is refused before the file is read: the ticket
/// must be the caller's and open, the type allowed, a declared length within the
/// limit, and one of a few upload slots free. The file then goes to disk as it
/// arrives, never whole in memory.
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
        (status = 503, description = "Too many files being sent at once; retry", body = ErrorBody),
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
    backend::attachments::may_send(&services, ticket, caller.user.id).await?;
    let limits = &services.settings.attachments;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    limits.check_type(content_type)?;
    let too_large = HttpError::TooLarge(limits.max_bytes / 1024);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limits.max_bytes).unwrap_or(u64::MAX)) {
        return Err(too_large);
    }
    let Ok(_slot) = services.uploads.clone().try_acquire_owned() else {
        return Err(HttpError::Unavailable(
            "too many files are being sent at once; retry in a moment".into(),
        ));
    };
    let mut received = backend::files::Partial::begin(&services).await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| HttpError::BadRequest("the file did not arrive whole".into()))?;
        if received.size() + chunk.len() > limits.max_bytes {
            return Err(too_large);
        }
        received.write(&chunk).await?;
    }
    let name = params.name.as_deref().unwrap_or("file");
    let message = backend::attachments::send(
        &services,
        ticket,
        caller.user.id,
        name,
        content_type,
        received,
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
