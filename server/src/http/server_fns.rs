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

/// The largest body a server function accepts. They take small forms (a reply is a
/// few KB; files go to the attachments route, which has its own limit), and
/// leptos_axum reads a body whole, whatever its size.
pub const MAX_BODY: usize = 256 * 1024;

/// Refuses server-function bodies over [`MAX_BODY`] with 413 before any of them is
/// decoded. Only `/api/…` outside the REST API (`/api/v1/…`) is a server function.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/") || path == "/api/openapi.json" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let error = AppError::Invalid(format!("the request is larger than {} KB", MAX_BODY / 1024));
        let body = serde_json::to_vec(&error).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        return response;
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

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
