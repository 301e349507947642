//! Server functions answer every error with 500, whatever it was. This layer gives an
//! error response the status its [`AppError`] calls for, in one place: so a malformed
//! request (which fails before any of our code runs) is a 400, a missing sign-in a
//! 401, and only a real fault a 500.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// Error bodies are a JSON-encoded [`AppError`]: small.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn error_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    // "Try again later" says when, as the REST API's 503s do.
    if parts.status == StatusCode::SERVICE_UNAVAILABLE {
        parts
            .headers
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(axum::http::HeaderValue::from_static("1"));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The URL of every server function compiled in, for tests that must cover them all
/// (the authorization matrix): a new one cannot be forgotten.
pub fn registered() -> Vec<String> {
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _method)| path.to_owned())
        .collect();
    paths.sort();
    paths
}
