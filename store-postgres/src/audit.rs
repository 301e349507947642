use store::audit::{Audit, NewEntry};

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
}
