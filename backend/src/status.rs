//! What the server can say about itself: used by the status card on the home page and
//! by operators checking that a deployment is healthy.

use serde::Serialize;

use crate::Result;

/// A snapshot of the database side of the instance.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseStatus {
    /// Highest applied migration version.
    pub schema_version: i64,
    /// Number of migrations applied.
    pub migrations: i64,
    /// The database's own clock, UTC, `YYYY-MM-DD HH:MM:SS`: proves a live round trip.
    pub now: String,
}

pub async fn database(store: &dyn store::Store) -> Result<DatabaseStatus> {
    let (schema_version, migrations, now) = store.autocommit().await?.database_health().await?;
    Ok(DatabaseStatus {
        schema_version,
        migrations,
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reports_every_embedded_migration() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let pool = crate::db::connect(&url).await.unwrap();
        let status = database(&store_sqlite::SqliteStore::new(pool))
            .await
            .unwrap();
        let embedded = crate::db::MIGRATOR.iter().count() as i64;
        assert_eq!(status.migrations, embedded);
        let newest = crate::db::MIGRATOR.iter().map(|m| m.version).max().unwrap();
        assert_eq!(status.schema_version, newest);
        assert_eq!(status.now.len(), "2026-01-01 00:00:00".len());
    }
}
