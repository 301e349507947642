use store::settings::Settings;

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Settings for SqliteTx<C> {
    async fn setting_get(&mut self, key: &str) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select value from settings where key = ?", key)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn setting_put(&mut self, key: &str, json: &str) -> store::Result<()> {
        sqlx::query!(
            "insert into settings (key, value) values (?, ?)
             on conflict (key) do update set value = excluded.value,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            key,
            json
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_backlog(&mut self) -> store::Result<(i64, Option<i64>)> {
        let row = sqlx::query!(
            r#"select count(*) as "pending!: i64", min(created_at) as "oldest: i64"
               from outbox where state in ('pending', 'sending')"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.pending, row.oldest))
    }

    async fn queue_backlog(&mut self) -> store::Result<(i64, Option<i64>)> {
        let row = sqlx::query!(
            r#"select count(*) as "queued!: i64", min(created_at) as "oldest: i64"
               from tickets where status = 'queued'"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.queued, row.oldest))
    }
}
