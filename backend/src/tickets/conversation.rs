//! What the conversation page shows beside the transcript: the ticket's facts, the
//! customer panel, and how far the viewer had read.

use serde::Serialize;
use sqlx::SqlitePool;

use protocol::ticket::{ClosedReason, Status};

use super::views::{self, Row};
use crate::Result;

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
    /// Their other tickets on the same connection, newest first (at most 20).
    pub others: Vec<OtherTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherTicket {
    pub remote_id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
}

pub async fn detail(db: &SqlitePool, viewer: i64, ticket: i64) -> Result<Detail> {
    let row = views::row(db, viewer, ticket).await?;
    let facts = sqlx::query!(
        r#"select t.closed_reason as "closed_reason: ClosedReason", t.customer_id,
                  cu.public_id as "public_id?", cu.name as "name?", cu.email as "email?",
                  cu.picture_url as "picture_url?", cu.phone as "phone?", cu.company as "company?",
                  (select min(m.created_at) from messages m
                    where m.ticket_id = t.id and m.origin = 'customer'
                      and m.id > coalesce((select max(a.id) from messages a
                                           where a.ticket_id = t.id and a.origin = 'agent'), 0))
                    as "unanswered_since?: i64",
                  (select r.last_read_message_id from ticket_reads r
                    where r.user_id = ? and r.ticket_id = t.id) as "last_read?: i64"
           from tickets t left join customers cu on cu.id = t.customer_id
           where t.id = ?"#,
        viewer,
        ticket
    )
    .fetch_one(db)
    .await?;
    let waiting_since = match row.status {
        Status::Closed => None,
        Status::Queued => Some(row.created_at),
        Status::Assigned => facts.unanswered_since,
    };
    let customer = match facts.customer_id {
        None => None,
        Some(customer) => {
            let others = sqlx::query_as!(
                OtherTicket,
                r#"select remote_id, title, status as "status: Status", created_at from tickets
                   where customer_id = ? and id != ?
                   order by created_at desc limit 20"#,
                customer,
                ticket
            )
            .fetch_all(db)
            .await?;
            Some(Customer {
                public_id: facts.public_id.unwrap_or_default(),
                name: facts.name,
                email: facts.email,
                picture_url: facts.picture_url.filter(|u| is_web_url(u)),
                phone: facts.phone,
                company: facts.company,
                others,
            })
        }
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
