//! Tickets: their status changes, and what the ported areas need to read of them.

use protocol::ticket::{ClosedReason, Delivery, Status};

/// What a command on a ticket checks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub remote_id: String,
    pub connection_id: i64,
    pub status: Status,
    pub assignee_id: Option<i64>,
}

/// A ticket as its events name it, with the connection that decides who may see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: i64,
    pub remote_id: String,
    pub connection_id: i64,
}

#[async_trait::async_trait]
pub trait Tickets {
    /// The ticket's remote id (what events and Botpress call it), if it exists.
    async fn ticket_remote_id(&mut self, id: i64) -> crate::Result<Option<String>>;

    /// Closes the ticket if it is open: its remote id if it did.
    async fn ticket_close(
        &mut self,
        id: i64,
        reason: ClosedReason,
        now: i64,
    ) -> crate::Result<Option<String>>;

    /// Puts a closed ticket back in the queue, unassigned and queued from `now`: its
    /// remote id if it did.
    async fn ticket_reopen(&mut self, id: i64, now: i64) -> crate::Result<Option<String>>;

    /// Puts every ticket `user` holds back in the queue: their remote ids.
    async fn tickets_requeue_held_by(&mut self, user: i64, now: i64) -> crate::Result<Vec<Named>>;

    async fn ticket_head(&mut self, id: i64) -> crate::Result<Option<Head>>;

    /// Gives the ticket to `agent` (taken now, unless it was taken before).
    async fn ticket_hand_over(&mut self, id: i64, agent: i64, now: i64) -> crate::Result<()>;

    /// An agent's reply, pending delivery: its id.
    async fn message_agent_insert(
        &mut self,
        ticket: i64,
        kind: &str,
        payload: &str,
        author: i64,
        now: i64,
    ) -> crate::Result<i64>;

    /// An agent replied in the ticket now (the first response, and the count).
    async fn ticket_responded(&mut self, id: i64, now: i64) -> crate::Result<()>;

    /// An agent's message: its ticket and delivery state.
    async fn message_agent_delivery(
        &mut self,
        message: i64,
    ) -> crate::Result<Option<(i64, Option<Delivery>)>>;

    /// The message is to be delivered again.
    async fn message_redeliver(&mut self, message: i64) -> crate::Result<()>;

    /// Queued tickets created before `cutoff` that never saw a message, as (id,
    /// remote id).
    async fn tickets_abandoned(&mut self, cutoff: i64) -> crate::Result<Vec<(i64, String)>>;

    /// The ticket's remote id and its newest message.
    async fn ticket_last_message(
        &mut self,
        id: i64,
    ) -> crate::Result<Option<(String, Option<i64>)>>;

    /// Moves how far `user` has read the ticket up to `message` (never back):
    /// whether it moved.
    async fn ticket_read_up_to(
        &mut self,
        user: i64,
        ticket: i64,
        message: i64,
    ) -> crate::Result<bool>;
}
