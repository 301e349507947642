use store::health::Health;

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Health for PgTx<C> {
    async fn database_health(&mut self) -> store::Result<(i64, i64, String)> {
        let row = sqlx::query!(
            r#"select coalesce(max(version), 0) as "schema_version!",
                      count(*) as "migrations!",
                      to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS') as "now!"
               from _sqlx_migrations
               where success"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.schema_version, row.migrations, row.now))
    }
}
