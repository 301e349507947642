//! What agents read of tickets: the inbox lists (keyset pages of ids, then their
//! rows), the counts, a transcript's messages, the conversation page's facts, and
//! the exports' reads.

use protocol::ticket::{ClosedReason, Delivery, Origin, Priority, Status};

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Waiting for an agent, oldest first.
    Queued,
    /// Assigned to the viewer, oldest first.
    Mine,
    /// Assigned to anyone, oldest first.
    Assigned,
    /// Queued or assigned, oldest first.
    Open,
    /// Closed, most recently closed first.
    Closed,
    /// Every ticket, in the order they arrived.
    All,
    /// Tickets with a note that mentions the viewer, latest mention first, among
    /// those they may see (on a connection they see, or held by them): a mention
    /// from before they left a bot's team does not show its ticket.
    Mentions,
}

impl View {
    /// Whether the list runs newest first, so that a page's bound is an upper one.
    pub fn descending(self) -> bool {
        matches!(self, View::Closed | View::Mentions)
    }
}

/// A list row's columns, before the backend makes its preview and adds labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: i64,
    pub remote_id: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub connection: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub assignee_public_id: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// The latest customer, agent or system message: its origin, type, payload (JSON
    /// text) and time.
    pub last_origin: Option<Origin>,
    pub last_type: Option<String>,
    pub last_payload: Option<String>,
    pub last_at: Option<i64>,
    /// Customer messages after the viewer's last read one.
    pub unread: i64,
    /// What the bot said about the handoff (Baton's integration); `None`: not said.
    pub priority: Option<Priority>,
    /// The team whose queue it is in, by name.
    pub team: Option<String>,
}

/// How many tickets each list holds, for one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewCounts {
    pub queued: i64,
    pub mine: i64,
    pub open: i64,
    pub closed: i64,
    /// Tickets with a mention of the viewer they have not opened since, among those
    /// they may see (as the Mentions view).
    pub mentions: i64,
}

/// A message before its payload is parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub id: i64,
    pub origin: Origin,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub author_name: Option<String>,
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    /// Botpress's time for the imported transcript, ours otherwise.
    pub at: i64,
}

/// A ticket's own columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub id: i64,
    pub connection_id: i64,
    pub remote_id: String,
    pub customer_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub assignee_id: Option<i64>,
    pub recovered: bool,
    pub botpress_conversation_id: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub closed_reason: Option<ClosedReason>,
    /// What the bot said about the handoff (Baton's integration); `None`: not said.
    pub priority: Option<Priority>,
    /// The team whose queue it is in, by name.
    pub team: Option<String>,
}

/// What the conversation page shows beside the transcript, in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub closed_reason: Option<ClosedReason>,
    pub customer_id: Option<i64>,
    pub public_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture_url: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// The customer's oldest message after the last agent message.
    pub unanswered_since: Option<i64>,
    /// The last message the viewer has read here.
    pub last_read: Option<i64>,
}

/// Another ticket of the same customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherTicket {
    pub remote_id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
}

/// One ticket of the admins' CSV export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub id: i64,
    pub remote_id: String,
    pub status: Status,
    pub title: String,
    pub bot: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub agent: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub closed_reason: Option<ClosedReason>,
    pub messages: i64,
    /// Its labels' names, by name, joined with `; `.
    pub labels: Option<String>,
}

#[async_trait::async_trait]
pub trait Views {
    /// One page of a list's (sort key, id) pairs past `bound` (below it for a
    /// descending view), on the tickets the viewer sees; only those with `label` if
    /// one is given.
    async fn view_page(
        &mut self,
        view: View,
        viewer: i64,
        label: Option<i64>,
        bound: (i64, i64),
        limit: i64,
    ) -> crate::Result<Vec<(i64, i64)>>;

    /// The rows of these tickets, in no particular order.
    async fn view_rows(&mut self, viewer: i64, tickets: &[i64]) -> crate::Result<Vec<ListRow>>;

    async fn view_counts(&mut self, viewer: i64) -> crate::Result<ViewCounts>;

    /// The Botpress-facing ids of queued tickets that arrived before `cutoff`, among
    /// those the viewer sees, oldest first.
    async fn queued_before(
        &mut self,
        viewer: i64,
        cutoff: i64,
        limit: i64,
    ) -> crate::Result<Vec<String>>;

    /// The tickets with this Botpress-facing id that the viewer sees or holds: at
    /// most two (enough to tell one from many).
    async fn tickets_by_remote_id(
        &mut self,
        viewer: i64,
        remote_id: &str,
    ) -> crate::Result<Vec<i64>>;

    async fn ticket_get(&mut self, id: i64) -> crate::Result<Option<TicketRow>>;

    /// Every message: the imported transcript first (by Botpress's time), then the
    /// rest by id.
    async fn ticket_messages(&mut self, ticket: i64) -> crate::Result<Vec<MessageRow>>;

    /// The last `count` messages in that order, newest first.
    async fn ticket_latest_messages(
        &mut self,
        ticket: i64,
        count: i64,
    ) -> crate::Result<Vec<MessageRow>>;

    async fn ticket_message_count(&mut self, ticket: i64) -> crate::Result<i64>;

    /// How many messages are at or after this one in that order; `None` when it is
    /// not this ticket's.
    async fn messages_from_message(
        &mut self,
        ticket: i64,
        message: i64,
    ) -> crate::Result<Option<i64>>;

    /// How many of the handoff's messages came at or after this note; `None` when it
    /// is not this ticket's.
    async fn messages_from_note(&mut self, ticket: i64, note: i64) -> crate::Result<Option<i64>>;

    /// `None` when the ticket does not exist.
    async fn ticket_facts(&mut self, viewer: i64, ticket: i64) -> crate::Result<Option<Facts>>;

    /// The customer's tickets other than `except` that `viewer` may see (on a
    /// connection they see, or held by them), newest first, at most `most`.
    async fn customer_other_tickets(
        &mut self,
        viewer: i64,
        customer: i64,
        except: i64,
        most: i64,
    ) -> crate::Result<Vec<OtherTicket>>;

    /// Tickets created in `[from, to)` with an id above `after`, by id.
    async fn export_rows(
        &mut self,
        from: i64,
        to: i64,
        after: i64,
        limit: i64,
    ) -> crate::Result<Vec<ExportRow>>;
}
