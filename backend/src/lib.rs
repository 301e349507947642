//! Baton's domain and persistence layer.
//!
//! Everything that touches the database lives here, so that the HTTP handlers in
//! `server`, the server functions in `app` and the CLI share one implementation, and
//! so that `cargo sqlx prepare` sees every query without Leptos feature flags.

pub mod db;
pub mod error;
pub mod status;

pub use error::{Error, Result};

/// Shared handles that every request path needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Services {
    pub db: sqlx::SqlitePool,
}

impl Services {
    pub fn new(db: sqlx::SqlitePool) -> Self {
        Self { db }
    }
}
