//! What the Botpress endpoints store: customers and tickets as Botpress announces
//! them, the messages it relays, and its close requests with how each was matched to
//! a ticket.

use protocol::ticket::{Origin, Priority, Status};

/// How a close request was matched to a ticket (docs/botpress.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "snake_case")]
pub enum MappedBy {
    /// The ticket already had the Botpress conversation id.
    Known,
    /// The Botpress API named the conversation's ticket.
    Api,
    /// The end notice the bot posted just before.
    EndNotice,
}

impl MappedBy {
    /// As the schema stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            MappedBy::Known => "known",
            MappedBy::Api => "api",
            MappedBy::EndNotice => "end_notice",
        }
    }
}

/// A new customer, as `createRemoteUser` describes them.
#[derive(Debug, Clone)]
pub struct NewCustomer<'a> {
    pub public_id: &'a str,
    pub connection: i64,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub picture_url: Option<&'a str>,
    pub at: i64,
}

/// A new ticket, as `createRemoteConversation` describes it.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub connection: i64,
    pub remote_id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// When to ask the Botpress API about it, if the connection can.
    pub sync_at: Option<i64>,
    /// Known from the start with Baton's integration; plus/hitl-api's first message
    /// names the customer.
    pub customer: Option<i64>,
    /// What the bot said about the handoff (Baton's integration only).
    pub priority: Option<Priority>,
    pub team: Option<i64>,
    pub at: i64,
}

/// What a relayed message needs to know, found in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub ticket: Option<i64>,
    pub customer: Option<i64>,
    /// The connection's end notice text.
    pub end_notice: Option<String>,
}

/// A relayed message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub ticket: i64,
    pub origin: Origin,
    pub kind: &'a str,
    /// JSON text.
    pub payload: &'a str,
    pub customer: Option<i64>,
    /// Botpress's message id, when the integration sends it (Baton's does): a
    /// message delivered twice is stored once.
    pub external_id: Option<&'a str>,
    pub at: i64,
}

#[async_trait::async_trait]
pub trait Inbound {
    /// The bot reached us now (never moves backwards).
    async fn connection_contact(&mut self, connection: i64, now: i64) -> crate::Result<()>;

    /// Refreshes the connection's customer with this email (any letter case): the
    /// name unless a person edited it, the picture if given. Their public id.
    async fn customer_refresh(
        &mut self,
        connection: i64,
        email: &str,
        name: Option<&str>,
        picture_url: Option<&str>,
        now: i64,
    ) -> crate::Result<Option<String>>;

    async fn customer_insert(&mut self, new: &NewCustomer<'_>) -> crate::Result<()>;

    /// Tags a customer with the Botpress user Baton's integration created for them.
    async fn customer_link_botpress(
        &mut self,
        connection: i64,
        public_id: &str,
        botpress_user_id: &str,
    ) -> crate::Result<()>;

    /// A customer id Botpress sent that we do not know, kept as recovered: its id.
    async fn customer_recover(
        &mut self,
        connection: i64,
        public_id: &str,
        now: i64,
    ) -> crate::Result<i64>;

    async fn ticket_insert(&mut self, new: &NewTicket<'_>) -> crate::Result<i64>;

    /// A conversation Botpress knows and we do not, kept as a recovered ticket: its id.
    async fn ticket_recover(
        &mut self,
        connection: i64,
        remote_id: &str,
        description: &str,
        now: i64,
    ) -> crate::Result<i64>;

    /// The ticket and customer a message names, and the connection's end notice.
    async fn message_addressed(
        &mut self,
        connection: i64,
        ticket_remote_id: &str,
        customer_public_id: &str,
    ) -> crate::Result<Addressed>;

    /// The new message's id.
    async fn message_insert(&mut self, new: &NewMessage<'_>) -> crate::Result<Option<i64>>;

    /// A message arrived in the ticket: binds the customer if it has none, counts it
    /// if `counted` (the customer's), and returns the ticket's status.
    async fn ticket_message_arrived(
        &mut self,
        ticket: i64,
        customer: Option<i64>,
        counted: bool,
        now: i64,
    ) -> crate::Result<Status>;

    /// The bot posted the end notice in the ticket now.
    async fn ticket_end_notice(&mut self, ticket: i64, now: i64) -> crate::Result<()>;

    /// The new close request's id.
    async fn close_request_insert(
        &mut self,
        connection: i64,
        conversation: &str,
        now: i64,
    ) -> crate::Result<i64>;

    /// The connection's ticket with this Botpress conversation id.
    async fn ticket_by_conversation(
        &mut self,
        connection: i64,
        conversation: &str,
    ) -> crate::Result<Option<i64>>;

    /// The sync worker should ask the Botpress API about the request at `at`.
    async fn close_request_due(&mut self, request: i64, at: i64) -> crate::Result<()>;

    /// Marks the request mapped to the ticket: its Botpress conversation id.
    async fn close_request_map(
        &mut self,
        request: i64,
        ticket: i64,
        by: MappedBy,
    ) -> crate::Result<String>;

    /// Nothing matched the request (until credentials change).
    async fn close_request_unmapped(&mut self, request: i64) -> crate::Result<()>;

    /// Gives the ticket the Botpress conversation id, unless it has one or another
    /// ticket of its connection holds it.
    async fn ticket_remember_conversation(
        &mut self,
        ticket: i64,
        conversation: &str,
    ) -> crate::Result<()>;

    /// The connection's oldest ticket whose end notice came between `since` and
    /// `until` and that has no Botpress conversation id yet.
    async fn ticket_by_end_notice(
        &mut self,
        connection: i64,
        since: i64,
        until: i64,
    ) -> crate::Result<Option<i64>>;
}
