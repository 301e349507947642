//! The durable outbox for calls to a bot's webhook (`/message-from-agent`,
//! `/agent-assigned`, `/stop-hitl`).
//!
//! A call is written in the same transaction as the change it announces, then the
//! worker (see `worker`) is woken and delivers it: in order per ticket, retrying what
//! surely did not land, and marking failed (with the reason) what may have landed, so
//! nothing is sent twice behind a person's back and nothing is silently dropped.

pub mod worker;

use std::sync::Arc;

use serde_json::Value;
use sqlx::{Sqlite, Transaction};
use tokio::sync::Notify;

use crate::Result;

/// The three webhook routes (protocol §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    MessageFromAgent,
    AgentAssigned,
    StopHitl,
}

impl Route {
    pub fn path(self) -> &'static str {
        match self {
            Route::MessageFromAgent => "message-from-agent",
            Route::AgentAssigned => "agent-assigned",
            Route::StopHitl => "stop-hitl",
        }
    }
}

/// Wakes the worker. Cheap to clone; wake after committing, never before.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    notify: Arc<Notify>,
}

impl Outbox {
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

pub async fn enqueue_in(
    tx: &mut Transaction<'static, Sqlite>,
    connection: i64,
    ticket: i64,
    message: Option<i64>,
    route: Route,
    body: &Value,
    now: i64,
) -> Result<i64> {
    let route = route.path();
    let body = body.to_string();
    Ok(sqlx::query_scalar!(
        r#"insert into outbox
            (connection_id, ticket_id, message_id, route, body, next_attempt_at, created_at)
         values (?, ?, ?, ?, ?, ?, ?)
         returning id as "id!""#,
        connection,
        ticket,
        message,
        route,
        body,
        now,
        now
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Marks every undelivered call of a ticket failed, with `reason` on its message.
pub async fn cancel_pending_in(
    conn: &mut sqlx::SqliteConnection,
    ticket: i64,
    reason: &str,
) -> Result<()> {
    let now = crate::clock::now_ms();
    sqlx::query!(
        "update messages set delivery = 'failed', delivery_error = ?
         where id in (select message_id from outbox
                      where ticket_id = ? and state = 'pending' and message_id is not null)",
        reason,
        ticket
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update outbox set state = 'failed', last_error = ?, finished_at = ?
         where ticket_id = ? and state = 'pending'",
        reason,
        now,
        ticket
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
