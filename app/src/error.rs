//! The error type server functions return.
//!
//! Every variant carries only a message that is safe to show a user; the server logs
//! the real cause before converting (see `api`).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Sign-in failed. Deliberately vague: it must not tell which part was wrong.
    #[error("Wrong email or password.")]
    BadCredentials,
    /// The input breaks a rule; the message says which (safe to show).
    #[error("{}", sentence(.0))]
    Invalid(String),
    /// What was asked for does not exist, or the caller may not know it does; the
    /// message names it ("ticket not found").
    #[error("{}", sentence(.0))]
    NotFound(String),
    /// The request conflicts with the current state (safe to show).
    #[error("{}", sentence(.0))]
    Conflict(String),
    /// Too many failed sign-ins; the number is the seconds to wait.
    #[error("Too many attempts. Try again in {0} s.")]
    RateLimited(u64),
    /// The request needs a signed-in account.
    #[error("Please sign in.")]
    Unauthorized,
    /// Signed in, but this needs the admin role.
    #[error("Only admins can do this.")]
    Forbidden,
    /// Signed in, but not allowed to do this to this ticket (it is a colleague's);
    /// the message says who may.
    #[error("{}", sentence(.0))]
    NotAllowed(String),
    /// A service Baton asked (the Botpress API) failed; the message says why.
    #[error("{}", sentence(.0))]
    Upstream(String),
    /// The server is temporarily unable to answer (for example the database is busy).
    #[error("Baton is busy right now. Please try again in a moment.")]
    Unavailable,
    /// Something failed on the server; details are in the server log.
    #[error("Something went wrong on the server. The details are in the server log.")]
    Internal,
    /// The request never reached the server function or its answer was unreadable.
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

/// The domain's messages are written as clauses ("a user with email … already
/// exists"); people read them as sentences: a capital first, a full stop last.
fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status a server function answers with this error: bad input and
    /// missing sign-in are 4xx, never 500. Applied to every server-function error
    /// response by the server (server functions themselves always answer 500).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::BadCredentials | AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::NotAllowed(_) => StatusCode::FORBIDDEN,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::Error> for AppError {
    fn from(e: backend::Error) -> Self {
        match e {
            backend::Error::Busy | backend::Error::Overloaded => AppError::Unavailable,
            backend::Error::Invalid(m) => AppError::Invalid(m),
            backend::Error::Conflict(m) => AppError::Conflict(m),
            backend::Error::Upstream(m) => AppError::Upstream(m),
            backend::Error::NotAllowed(m) => AppError::NotAllowed(m),
            backend::Error::Unauthenticated(_) => AppError::Unauthorized,
            backend::Error::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            other => {
                tracing::error!(error = ?other, "server function failed");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(
            AppError::Conflict("a user with email a@b.c already exists".into()).to_string(),
            "A user with email a@b.c already exists."
        );
        assert_eq!(
            AppError::Invalid("Too long.".into()).to_string(),
            "Too long."
        );
        assert_eq!(AppError::Invalid("é".into()).to_string(), "É.");
    }
}
