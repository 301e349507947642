//! The HTTP layer's error type: a status code and a JSON body `{"error": "..."}` with a
//! message that is safe to show. Causes are logged here, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The database is locked or unreachable for now; the client should retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<backend::Error> for HttpError {
    fn from(e: backend::Error) -> Self {
        match e {
            backend::Error::Busy => HttpError::Unavailable("the database is busy, retry".into()),
            other => HttpError::Internal(other.into()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            HttpError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone()),
            HttpError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
        };
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
