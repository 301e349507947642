//! Customers: their details, their tickets, and notes about them.

use protocol::ticket::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub public_id: String,
    /// The connection's name.
    pub connection: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// The details agents edit, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub public_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTicketRow {
    pub remote_id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// The holder's name.
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerNoteRow {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub created_at: i64,
}

#[async_trait::async_trait]
pub trait Customers {
    /// The customers with this public id that `viewer` may see: at most two (enough
    /// to tell one from many). A customer shows to whoever sees their connection's
    /// tickets (the `visible_connections` view: those who serve it, and admins), or
    /// sees or holds one of their tickets.
    async fn customer_ids(&mut self, viewer: i64, public_id: &str) -> crate::Result<Vec<i64>>;

    async fn customer_get(&mut self, id: i64) -> crate::Result<Option<CustomerRow>>;

    /// The customer's tickets that `viewer` may see (on a connection they see, or
    /// held by them), newest first, at most `most`.
    async fn customer_tickets(
        &mut self,
        viewer: i64,
        id: i64,
        most: i64,
    ) -> crate::Result<Vec<CustomerTicketRow>>;

    /// Newest first, at most `most`.
    async fn customer_notes(&mut self, id: i64, most: i64) -> crate::Result<Vec<CustomerNoteRow>>;

    /// Whether the customer's connection has Botpress API credentials.
    async fn customer_botpress_linked(&mut self, id: i64) -> crate::Result<bool>;

    async fn customer_details(&mut self, id: i64) -> crate::Result<Option<Details>>;

    /// Sets the details agents edit (`public_id` is not changed).
    async fn customer_update(&mut self, id: i64, details: &Details, now: i64) -> crate::Result<()>;

    async fn customer_note_insert(
        &mut self,
        id: i64,
        author: i64,
        text: &str,
        now: i64,
    ) -> crate::Result<i64>;

    async fn customer_connection(&mut self, id: i64) -> crate::Result<Option<i64>>;

    /// The customer's Botpress user: the one Baton's integration tagged them with, else
    /// the one their latest message came from (`payload.userId`).
    async fn customer_botpress_user_id(&mut self, id: i64) -> crate::Result<Option<String>>;
}
