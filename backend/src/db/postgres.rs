//! Opening a PostgreSQL database: the second engine, for teams that run several Baton
//! replicas on one database (see `docs/engines.md` for how far it has come).
//!
//! Its schema is `migrations/postgres/`, kept equal to SQLite's by a test; the queries
//! that use it are being ported area by area, so `serve` does not accept a
//! `postgres://` URL yet.

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{Error, Result};

/// The PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Connects to the database at `url` and applies pending migrations.
pub async fn connect(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| Error::Location(format!("invalid database URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
