//! The HTTP layer's error type: a status code and a JSON body `{"error": "..."}` with a
//! message that is safe to show. Causes are logged here, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The body of every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What is wrong, for the person or program that sent the request.
    #[schema(example = "payload.title: invalid type: integer `5`, expected a string")]
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request is wrong; the message says how (naming the field).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here. Sent with an empty body: a wrong token must learn nothing.
    #[error("not found")]
    NotFound,
    /// No credentials, or credentials that do not work (answered with
    /// `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (an agent calling an admin route).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the body is larger than {0} KB")]
    TooLarge(usize),
    /// Over a rate limit; `Retry-After` says when to try again.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The database is locked or unreachable for now; the client should retry.
    #[error("{0}")]
    Unavailable(String),
    /// A service asked on the caller's behalf (the Botpress API) failed.
    #[error("{0}")]
    BadGateway(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<backend::Error> for HttpError {
    fn from(e: backend::Error) -> Self {
        match e {
            backend::Error::Invalid(m) => HttpError::BadRequest(m),
            backend::Error::NotFound(_) => HttpError::NotFound,
            backend::Error::Conflict(m) => HttpError::Conflict(m),
            backend::Error::Upstream(m) => HttpError::BadGateway(m),
            backend::Error::NotAllowed(m) => HttpError::Forbidden(m),
            backend::Error::Unauthenticated(m) => HttpError::Unauthorized(m),
            backend::Error::Busy => HttpError::Unavailable("the database is busy, retry".into()),
            backend::Error::Overloaded => {
                HttpError::Unavailable("too many sign-ins at once, retry in a moment".into())
            }
            other => HttpError::Internal(other.into()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match &self {
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::NotFound => return StatusCode::NOT_FOUND.into_response(),
            HttpError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::Conflict(_) => StatusCode::CONFLICT,
            HttpError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            HttpError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let HttpError::TooManyRequests { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
