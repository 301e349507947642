use store::audit::{Audit, Entry, NewEntry};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Audit for PgTx<C> {
    async fn audit_insert(&mut self, e: &NewEntry<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into audit_log (at, actor_id, actor, ip, action, detail) values ($1, $2, $3, $4, $5, $6::text::jsonb)",
            e.at,
            e.actor_id,
            e.actor,
            e.ip,
            e.action,
            e.detail
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn audit_page(
        &mut self,
        before: i64,
        actor_like: &str,
        action_like: &str,
        most: i64,
    ) -> store::Result<Vec<Entry>> {
        sqlx::query_as!(
            Entry,
            r#"select id as "id!", at, actor, ip, action, detail::text as "detail!" from audit_log
               where id < $1 and actor ilike $2 escape '\' and action ilike $3 escape '\'
               order by id desc limit $4"#,
            before,
            actor_like,
            action_like,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}
