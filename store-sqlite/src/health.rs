use store::health::Health;

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Health for SqliteTx<C> {
    async fn database_health(&mut self) -> store::Result<(i64, i64, String)> {
        let row = sqlx::query!(
            r#"select coalesce(max(version), 0) as "schema_version!: i64",
                      count(*) as "migrations!: i64",
                      datetime('now') as "now!: String"
               from _sqlx_migrations
               where success = 1"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.schema_version, row.migrations, row.now))
    }
}
