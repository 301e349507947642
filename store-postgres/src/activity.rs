use store::activity::{Activity, NewLine};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Activity for PgTx<C> {
    async fn activity_insert(&mut self, l: &NewLine<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into ticket_activity (ticket_id, actor_id, action, other_id, detail, at)
             values ($1, $2, $3, $4, $5, $6)",
            l.ticket,
            l.actor,
            l.action,
            l.other,
            l.detail,
            l.at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
