use store::tickets::Tickets;

use crate::PgTx;

#[async_trait::async_trait]
impl Tickets for PgTx {
    async fn ticket_remote_id(&mut self, id: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select remote_id from tickets where id = $1", id)
            .fetch_optional(&mut *self.tx)
            .await
    }
}
