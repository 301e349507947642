use store::settings::Settings;

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Settings for PgTx<C> {
    async fn setting_get(&mut self, key: &str) -> store::Result<Option<String>> {
        sqlx::query_scalar!(
            r#"select value::text as "value!" from settings where key = $1"#,
            key
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn setting_put(&mut self, key: &str, json: &str) -> store::Result<()> {
        sqlx::query!(
            r#"insert into settings (key, value) values ($1, $2::text::jsonb)
               on conflict (key) do update set value = excluded.value,
                   updated_at = to_char(now() at time zone 'utc',
                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#,
            key,
            json
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_backlog(&mut self) -> store::Result<(i64, Option<i64>)> {
        let row = sqlx::query!(
            r#"select count(*) as "pending!", min(created_at) as "oldest"
               from outbox where state in ('pending', 'sending')"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.pending, row.oldest))
    }

    async fn queue_backlog(&mut self) -> store::Result<(i64, Option<i64>)> {
        let row = sqlx::query!(
            r#"select count(*) as "queued!", min(created_at) as "oldest"
               from tickets where status = 'queued'"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.queued, row.oldest))
    }
}
