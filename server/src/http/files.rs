//! Attachments: sending one (browser session or API token) and serving it at its
//! unguessable public URL, which Botpress fetches without credentials.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::api::tickets::Sent;
use super::error::{ErrorBody, HttpError};

/// The caller of a route that both the browser and programs use: an API token if
/// one is sent, else the signed-in session (cross-site requests are refused before
/// this by the Origin check).
pub struct Caller(pub backend::users::User);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let super::api::ApiUser(user) =
                super::api::ApiUser::from_request_parts(parts, state).await?;
            return Ok(Caller(user));
        }
        let auth = parts
            .extensions
            .get::<backend::auth::AuthSession>()
            .cloned()
            .ok_or_else(|| HttpError::Unauthorized("sign in or send an API token".into()))?;
        let user = auth
            .user
            .ok_or_else(|| HttpError::Unauthorized("sign in or send an API token".into()))?;
        Ok(Caller(user.user))
    }
}

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
    Caller(user): Caller,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    Query(params): Query<Upload>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Sent>), HttpError> {
    let ticket = backend::inbox::find_by_remote_id(&services.db, &id).await?;
    let limit = services.settings.attachments.max_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| HttpError::TooLarge(limit / 1024))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = params.name.as_deref().unwrap_or("file");
    let message =
        backend::attachments::send(&services, ticket, user.id, name, content_type, &bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            id: message,
            delivery: "pending".into(),
        }),
    ))
}

/// Serves a stored attachment. The name in the path is decoration; the key decides.
pub async fn download(
    State(services): State<backend::Services>,
    Path((key, _name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let stored = backend::attachments::find(&services, &key).await?;
    let bytes = match tokio::fs::read(&stored.path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HttpError::NotFound),
        Err(e) => return Err(HttpError::Internal(e.into())),
    };
    let disposition = format!(
        "{}; filename=\"{}\"",
        if stored.inline() {
            "inline"
        } else {
            "attachment"
        },
        stored.name
    );
    let header_value = |v: &str| {
        HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&stored.content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, header_value(&disposition));
    // Whatever the file holds, it cannot run script in our origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    // Our pages embed these (images, players); the default policy would refuse that.
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}
