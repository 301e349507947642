//! What the conversation page shows beside the transcript: the ticket's facts, the
//! customer panel, and how far the viewer had read.

use serde::Serialize;
use store::Store;

use protocol::ticket::{ClosedReason, Status};

use super::views::{self, Row};
use crate::{Error, Result};

/// A ticket's facts for the conversation page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub row: Row,
    pub closed_reason: Option<ClosedReason>,
    /// Since when the customer has been waiting for an answer: the ticket's start
    /// while nobody holds it, else their oldest message since the last agent reply.
    pub waiting_since: Option<i64>,
    pub customer: Option<Customer>,
    /// The last message the viewer has read here, if they ever opened it.
    pub last_read: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    /// `cus_…`: the customer page's address.
    pub public_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture_url: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// Their other tickets that the viewer may see, newest first (at most 20).
    pub others: Vec<OtherTicket>,
}

/// Another ticket of the same customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherTicket {
    pub remote_id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
}

impl From<store::views::OtherTicket> for OtherTicket {
    fn from(t: store::views::OtherTicket) -> Self {
        OtherTicket {
            remote_id: t.remote_id,
            title: t.title,
            status: t.status,
            created_at: t.created_at,
        }
    }
}

pub async fn detail(store: &dyn Store, viewer: i64, ticket: i64) -> Result<Detail> {
    // One snapshot: the row, its facts and the customer's other tickets agree.
    let mut tx = store.read().await?;
    let row = views::row_in(&mut *tx, viewer, ticket).await?;
    let facts = tx
        .ticket_facts(viewer, ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let waiting_since = match row.status {
        Status::Closed => None,
        Status::Queued => Some(row.created_at),
        Status::Assigned => facts.unanswered_since,
    };
    let customer = match facts.customer_id {
        None => None,
        Some(customer) => Some(Customer {
            others: tx
                .customer_other_tickets(viewer, customer, ticket, 20)
                .await?
                .into_iter()
                .map(OtherTicket::from)
                .collect(),
            public_id: facts.public_id.unwrap_or_default(),
            name: facts.name,
            email: facts.email,
            picture_url: facts.picture_url.filter(|u| is_web_url(u)),
            phone: facts.phone,
            company: facts.company,
        }),
    };
    Ok(Detail {
        row,
        closed_reason: facts.closed_reason,
        waiting_since,
        customer,
        last_read: facts.last_read,
    })
}

/// Pictures come from Botpress as given by the bot; only web URLs may become an
/// `<img src>`.
fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_web_pictures_are_shown() {
        assert!(super::is_web_url("https://cdn.example.com/a.png"));
        assert!(!super::is_web_url("javascript:alert(1)"));
        assert!(!super::is_web_url(
            "data:image/svg+xml,<svg onload=alert(1)>"
        ));
    }
}
