//! The domain layer's error type.
//!
//! Variants say what went wrong in terms a caller can act on. Database internals stay
//! inside `Database` and are logged by the layer that turns the error into a response;
//! they are never shown to a user.

/// Result alias for the domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite was locked by another writer for longer than `busy_timeout`.
    /// Callers answer "try again" (503 with `Retry-After`), not a server fault.
    #[error("the database is busy, try again")]
    Busy,
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not prepare the database location: {0}")]
    Location(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            Error::Busy
        } else {
            Error::Database(e)
        }
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), including their extended codes.
fn is_busy(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let Some(code) = db.code() else { return false };
    code.parse::<i64>()
        .map(|c| matches!(c & 0xff, 5 | 6))
        .unwrap_or(false)
}
