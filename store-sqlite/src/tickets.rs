use store::tickets::Tickets;

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Tickets for SqliteTx<C> {
    async fn ticket_remote_id(&mut self, id: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select remote_id from tickets where id = ?", id)
            .fetch_optional(&mut *self.tx)
            .await
    }
}
