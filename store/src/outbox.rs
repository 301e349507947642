//! The outbox: calls to a bot's webhook, written in the transaction of the change
//! they announce.

use serde::{Deserialize, Serialize};

/// The three webhook routes (docs/botpress.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "kebab-case")]
#[sqlx(rename_all = "kebab-case")]
pub enum Route {
    MessageFromAgent,
    AgentAssigned,
    StopHitl,
}

impl Route {
    /// The route's path, which is also how the schema stores it.
    pub fn path(self) -> &'static str {
        match self {
            Route::MessageFromAgent => "message-from-agent",
            Route::AgentAssigned => "agent-assigned",
            Route::StopHitl => "stop-hitl",
        }
    }

    /// Botpress ignores a repeat of this call, so one that may have landed can be
    /// sent again (docs/botpress.md §6.6). The others show the customer something.
    pub fn repeatable(self) -> bool {
        self == Route::StopHitl
    }
}

/// One call to queue.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub ticket: i64,
    /// The agent's message the call carries, whose delivery state follows it.
    pub message: Option<i64>,
    pub route: Route,
    /// The exact JSON body.
    pub body: &'a str,
    pub at: i64,
}

/// A call the worker took to deliver (now `sending`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub connection_id: i64,
    pub ticket_id: i64,
    /// The id Botpress knows the ticket by, for the event a delivery causes.
    pub remote_id: String,
    pub message_id: Option<i64>,
    pub route: Route,
    pub body: String,
    /// Counting this one.
    pub attempts: i64,
    pub created_at: i64,
}

#[async_trait::async_trait]
pub trait Outbox {
    /// Queues the call on the ticket's connection, due at once.
    async fn outbox_insert(&mut self, call: &NewCall<'_>) -> crate::Result<()>;

    /// Marks every undelivered call of the ticket failed with `reason`, and the
    /// messages they carry.
    async fn outbox_cancel_pending(
        &mut self,
        ticket: i64,
        reason: &str,
        now: i64,
    ) -> crate::Result<()>;

    /// The body of the newest call that carried the message.
    async fn outbox_last_body(&mut self, message: i64) -> crate::Result<Option<String>>;

    /// Calls left `sending` by a process that stopped or died: every one (`all`, at
    /// the start of the only process), else those whose lease ran out by `now`. The
    /// messages and assignments among them failed with `reason` (they may have
    /// arrived), the rest pending again. How many were recovered.
    async fn outbox_recover_interrupted(
        &mut self,
        reason: &str,
        now: i64,
        all: bool,
    ) -> crate::Result<u64>;

    /// Takes up to `most` due calls, each the first undelivered one of its ticket,
    /// of tickets Botpress surely has (a message came, or `hold_ms` passed since
    /// creation), and marks them `sending`, leased until `lease_until`.
    async fn outbox_claim(
        &mut self,
        now: i64,
        hold_ms: i64,
        most: i64,
        lease_until: i64,
    ) -> crate::Result<Vec<Claimed>>;

    /// When the earliest waiting call becomes due (its retry time or the end of its
    /// ticket's hold).
    async fn outbox_next_due(&mut self, hold_ms: i64) -> crate::Result<Option<i64>>;

    /// Whether the customer or the bot ended the ticket's session.
    async fn ticket_ended_by_botpress(&mut self, ticket: i64) -> crate::Result<bool>;

    /// Delivered: the call, and the message it carried.
    async fn outbox_sent(&mut self, id: i64, message: Option<i64>, now: i64) -> crate::Result<()>;

    /// To be tried again at `next`.
    async fn outbox_retry(&mut self, id: i64, reason: &str, next: i64) -> crate::Result<()>;

    /// Given up: the call, and the message it carried.
    async fn outbox_failed(
        &mut self,
        id: i64,
        message: Option<i64>,
        reason: &str,
        now: i64,
    ) -> crate::Result<()>;
}
