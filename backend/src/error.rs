//! The domain layer's error type.
//!
//! Variants say what went wrong in terms a caller can act on. `Invalid` and
//! `NotFound` carry messages written for the person or program that sent the
//! request; database internals stay inside `Database` and are logged by the layer
//! that turns the error into a response, never shown.

/// Result alias for the domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or breaks a rule; the message says which field.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist (or the caller may not know it does).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No valid credentials came with the request; the message says what to send.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this to this thing (an agent closing a colleague's
    /// ticket); the message says who may.
    #[error("{0}")]
    NotAllowed(String),
    /// The request conflicts with the current state (e.g. replying to a closed ticket).
    #[error("{0}")]
    Conflict(String),
    /// SQLite was locked by another writer for longer than `busy_timeout`.
    /// Callers answer "try again" (503 with `Retry-After`), not a server fault.
    #[error("the database is busy, try again")]
    Busy,
    /// Too many password checks at once (see `accounts::password`). Callers answer
    /// 503 with `Retry-After`, like [`Error::Busy`].
    #[error("too many sign-ins at once, try again in a moment")]
    Overloaded,
    /// A service Baton asked on the caller's behalf (the Botpress API) failed or
    /// refused; the message says which and why, without secrets.
    #[error("{0}")]
    Upstream(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not prepare the database location: {0}")]
    Location(String),
    /// A fault on our side that is not the database (e.g. no randomness).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// Busy errors in this process, for `baton_sqlite_busy_errors_total`. A process-wide
/// count because every sqlx error of every pool passes through `From` below.
static BUSY_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn busy_errors() -> u64 {
    BUSY_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            BUSY_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Error::Busy
        } else if is_nul_text(&e) {
            Error::Invalid("text may not contain the NUL character (\\u0000)".into())
        } else {
            Error::Database(e)
        }
    }
}

/// PostgreSQL refuses the NUL character in text (22021) and in JSON (22P05), where
/// SQLite keeps it: input the client sent, so a 400, not a 500.
fn is_nul_text(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some_and(|pg| matches!(pg.code(), "22021" | "22P05"))
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), including their extended codes.
fn is_busy(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    // PostgreSQL's codes are SQLSTATEs, some of which parse as numbers.
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
        return false;
    }
    let Some(code) = db.code() else { return false };
    code.parse::<i64>()
        .map(|c| matches!(c & 0xff, 5 | 6))
        .unwrap_or(false)
}

/// Turns a UNIQUE violation into a domain error instead of a database error.
pub trait ResultExt<T> {
    fn on_unique(self, message: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique(self, message: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => Error::Conflict(message()),
            _ => Error::from(e),
        })
    }
}
