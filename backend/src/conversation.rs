//! What the conversation page shows beside the transcript: the ticket's facts, the
//! customer panel, and the viewer's read state.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::inbox::{self, Row};
use crate::realtime::Change;
use crate::{Result, Services};

/// A ticket's facts for the conversation page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub row: Row,
    /// Why it closed: `customer_ended`, `bot_closed`, `agent_closed`, `handed_back`
    /// or `abandoned`.
    pub closed_reason: Option<String>,
    /// Since when the customer has been waiting for an answer: the ticket's start
    /// while nobody holds it, else their oldest message since the last agent reply.
    pub waiting_since: Option<i64>,
    pub customer: Option<Customer>,
    /// The last message the viewer has read here, if they ever opened it.
    pub last_read: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture_url: Option<String>,
    /// Their other tickets on the same connection, newest first (at most 20).
    pub others: Vec<OtherTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherTicket {
    pub remote_id: String,
    pub title: String,
    pub status: String,
    pub created_at: i64,
}

pub async fn detail(db: &SqlitePool, viewer: i64, ticket: i64) -> Result<Detail> {
    let row = inbox::row(db, viewer, ticket).await?;
    let facts = sqlx::query!(
        r#"select t.closed_reason, t.customer_id,
                  cu.name as "name?", cu.email as "email?", cu.picture_url as "picture_url?",
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
    let waiting_since = match row.status.as_str() {
        "closed" => None,
        "queued" => Some(row.created_at),
        _ => facts.unanswered_since,
    };
    let customer = match facts.customer_id {
        None => None,
        Some(customer) => {
            let others = sqlx::query_as!(
                OtherTicket,
                r#"select remote_id, title, status, created_at from tickets
                   where customer_id = ? and id != ?
                   order by created_at desc limit 20"#,
                customer,
                ticket
            )
            .fetch_all(db)
            .await?;
            Some(Customer {
                name: facts.name,
                email: facts.email,
                picture_url: facts.picture_url.filter(|u| is_web_url(u)),
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

/// Marks everything in the ticket read for `viewer`, and tells their other devices.
pub async fn mark_read(services: &Services, viewer: i64, ticket: i64) -> Result<()> {
    let last = sqlx::query!(
        r#"select t.remote_id, (select max(m.id) from messages m where m.ticket_id = t.id)
                  as "last?: i64"
           from tickets t where t.id = ?"#,
        ticket
    )
    .fetch_optional(&services.db)
    .await?
    .ok_or(crate::Error::NotFound("ticket"))?;
    let Some(message) = last.last else {
        return Ok(());
    };
    let changed = sqlx::query!(
        "insert into ticket_reads (user_id, ticket_id, last_read_message_id) values (?, ?, ?)
         on conflict (user_id, ticket_id) do update
             set last_read_message_id = excluded.last_read_message_id
             where excluded.last_read_message_id > ticket_reads.last_read_message_id",
        viewer,
        ticket,
        message
    )
    .execute(&services.db)
    .await?
    .rows_affected();
    if changed > 0 {
        services.hub.publish(
            Change::Unread {
                ticket: last.remote_id,
            },
            Some(viewer),
        );
    }
    Ok(())
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
