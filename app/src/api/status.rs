//! Instance status, shown on the home page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the status card shows. Contains nothing secret: it is public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub schema_version: i64,
    pub migrations: i64,
    /// The database clock at the time of the call (UTC).
    pub database_time: String,
}

#[server(endpoint = "status")]
pub async fn get_status() -> Result<ServerStatus, AppError> {
    super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let db = backend::status::database(&*services.store).await?;
    Ok(ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: db.schema_version,
        migrations: db.migrations,
        database_time: db.now,
    })
}
