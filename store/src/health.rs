//! What the status page shows of the database.

#[async_trait::async_trait]
pub trait Health {
    /// The highest applied migration, how many are applied, and the database's own
    /// clock (UTC, `YYYY-MM-DD HH:MM:SS`): a live round trip.
    async fn database_health(&mut self) -> crate::Result<(i64, i64, String)>;
}
