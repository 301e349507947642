//! Tickets: what the ported areas need of them so far.

#[async_trait::async_trait]
pub trait Tickets {
    /// The ticket's remote id (what events and Botpress call it), if it exists.
    async fn ticket_remote_id(&mut self, id: i64) -> crate::Result<Option<String>>;
}
