//! Attachments served at their unguessable public URLs, which Botpress fetches
//! without credentials. Sending one is a REST route (`api::attachments`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::HttpError;

/// Serves a stored attachment. The name in the path is decoration; the key decides.
pub async fn download(
    State(services): State<backend::Services>,
    Path((key, _name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let stored = backend::attachments::find(&services, &key).await?;
    let Some(bytes) = backend::files::get(&services, &stored.key).await? else {
        return Err(HttpError::NotFound);
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
