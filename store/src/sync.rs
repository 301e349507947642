//! What the Botpress sync worker reads and marks: close requests to look up through
//! the Botpress API, and new tickets whose conversation and transcript to fetch.

use protocol::ticket::Origin;

/// A close request due for an API lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueClose {
    pub id: i64,
    pub connection_id: i64,
    pub botpress_conversation_id: String,
    pub attempts: i64,
    pub received_at: i64,
}

/// A ticket due for a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSync {
    pub id: i64,
    pub connection_id: i64,
    pub remote_id: String,
    pub botpress_conversation_id: Option<String>,
    pub sync_attempts: i64,
}

/// A message of the customer's conversation with the bot, from before the handoff.
#[derive(Debug, Clone)]
pub struct TranscriptLine<'a> {
    pub ticket: i64,
    /// `TranscriptCustomer` or `TranscriptBot`.
    pub origin: Origin,
    pub kind: &'a str,
    /// JSON text.
    pub payload: &'a str,
    pub customer: Option<i64>,
    /// Botpress's message id: imported once.
    pub external_id: &'a str,
    pub sent_at: Option<i64>,
    pub at: i64,
}

#[async_trait::async_trait]
pub trait Syncing {
    /// The earliest time a close request or a ticket sync is due.
    async fn sync_next_due(&mut self) -> crate::Result<Option<i64>>;

    /// Up to `most` close requests due by `now`, oldest first.
    async fn close_requests_due(&mut self, now: i64, most: i64) -> crate::Result<Vec<DueClose>>;

    /// Up to `most` tickets whose sync is due by `now`, oldest first.
    async fn tickets_sync_due(&mut self, now: i64, most: i64) -> crate::Result<Vec<DueSync>>;

    /// The connection's ticket with this remote id.
    async fn ticket_id_by_remote(
        &mut self,
        connection: i64,
        remote_id: &str,
    ) -> crate::Result<Option<i64>>;

    /// Remembers the customer's own conversation, unless one is known.
    async fn ticket_set_upstream(&mut self, ticket: i64, upstream: &str) -> crate::Result<()>;

    /// A lookup failed for now: once more at `next`.
    async fn close_request_retry(&mut self, id: i64, next: i64, error: &str) -> crate::Result<()>;

    /// A lookup failed for good (the request then goes to the end notice).
    async fn close_request_failed_lookup(&mut self, id: i64, error: &str) -> crate::Result<()>;

    /// Another ticket of the connection than `except` with this Botpress conversation.
    async fn ticket_holding_conversation(
        &mut self,
        connection: i64,
        conversation: &str,
        except: i64,
    ) -> crate::Result<Option<i64>>;

    /// Sets the ticket's Botpress and upstream conversation ids where it has none.
    async fn ticket_set_conversations(
        &mut self,
        ticket: i64,
        conversation: &str,
        upstream: Option<&str>,
    ) -> crate::Result<()>;

    /// The ticket's customer and when it was created.
    async fn ticket_customer_and_created(
        &mut self,
        ticket: i64,
    ) -> crate::Result<(Option<i64>, i64)>;

    /// Imports one transcript line (once per Botpress message id).
    async fn transcript_insert(&mut self, line: &TranscriptLine<'_>) -> crate::Result<()>;

    /// No sync for this ticket (its connection has no API credentials).
    async fn ticket_sync_none(&mut self, ticket: i64) -> crate::Result<()>;

    async fn ticket_sync_done(&mut self, ticket: i64) -> crate::Result<()>;

    async fn ticket_sync_retry(&mut self, ticket: i64, next: i64, error: &str)
    -> crate::Result<()>;

    async fn ticket_sync_failed(&mut self, ticket: i64, error: &str) -> crate::Result<()>;

    /// The connection gained API credentials: its unmapped closes and its open
    /// tickets never synced are due now.
    async fn sync_credentials_added(&mut self, connection: i64, now: i64) -> crate::Result<()>;
}
