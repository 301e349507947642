//! Every change of a ticket's status, whoever causes it: a person (`commands`),
//! Botpress (`botpress::inbound`, `botpress::mapping`), an admin deactivating an
//! account, or the housekeeping sweep. Each runs inside its caller's transaction and
//! records the realtime event it causes in the caller's effects.
//!
//! Queued → assigned (`commands::assign`) → closed (here); closed → queued when the
//! customer writes again (`reopen_in`); assigned → queued when the holder's account
//! is deactivated (`requeue_held_by_in`).

use protocol::realtime::Change;
use protocol::ticket::ClosedReason;
use sqlx::SqliteConnection;

use super::activity::{self, Action};
use crate::audit::{self, Actor};
use crate::effects::{Effects, Worker};
use crate::{Result, outbox};

/// Closes a ticket if it is open; whether it did. When the Botpress side ended the
/// session, calls still waiting to be delivered are pointless (Botpress would drop
/// them silently), so they are marked failed with the reason instead of being sent.
pub async fn close_in(
    conn: &mut SqliteConnection,
    effects: &mut Effects,
    ticket: i64,
    reason: ClosedReason,
    now: i64,
) -> Result<bool> {
    let closed = sqlx::query_scalar!(
        "update tickets set status = 'closed', closed_at = ?, closed_reason = ?, updated_at = ?
         where id = ? and status != 'closed'
         returning remote_id",
        now,
        reason,
        now,
        ticket
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(remote_id) = closed else {
        return Ok(false);
    };
    if reason.ended_by_botpress() {
        outbox::cancel_pending_in(
            conn,
            ticket,
            "the conversation ended before this was delivered",
            now,
        )
        .await?;
    }
    effects.publish(Change::Closed { ticket: remote_id });
    // Its holder has room for another (automatic assignment).
    effects.wake(Worker::Router);
    Ok(true)
}

/// The customer wrote in a ticket we closed: Botpress still relays, so the session is
/// live on its side (a lost `/stop-hitl`, an abandoned ticket whose customer came
/// back). Back to the queue, where someone will see it, rather than unread in a closed
/// ticket. Whether it reopened.
pub async fn reopen_in(
    conn: &mut SqliteConnection,
    effects: &mut Effects,
    ticket: i64,
    now: i64,
) -> Result<bool> {
    let reopened = sqlx::query_scalar!(
        "update tickets
         set status = 'queued', assignee_id = null, closed_at = null, closed_reason = null,
             updated_at = ?1, queued_at = ?1, told_position = null
         where id = ?2 and status = 'closed'
         returning remote_id",
        now,
        ticket
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(remote_id) = reopened else {
        return Ok(false);
    };
    tracing::info!(ticket, "customer wrote in a closed ticket; reopened it");
    let mut tx = store_sqlite::on(conn);
    activity::record(&mut tx, ticket, None, Action::Reopened, None, None, now).await?;
    let botpress = Actor {
        id: None,
        label: "botpress".into(),
        ip: None,
    };
    audit::record(
        &mut tx,
        &botpress,
        Action::Reopened.audit_name(),
        serde_json::json!({ "ticket": remote_id }),
    )
    .await?;
    effects.publish(Change::Assigned {
        ticket: remote_id,
        agent: None,
    });
    effects.wake(Worker::Router);
    Ok(true)
}

/// Puts the tickets `user` holds back in the queue (their account was deactivated);
/// how many.
pub async fn requeue_held_by_in(
    conn: &mut SqliteConnection,
    effects: &mut Effects,
    user: i64,
    now: i64,
) -> Result<u64> {
    let requeued = sqlx::query_scalar!(
        "update tickets
         set status = 'queued', assignee_id = null, updated_at = ?1, queued_at = ?1,
             told_position = null
         where assignee_id = ?2 and status = 'assigned'
         returning remote_id",
        now,
        user
    )
    .fetch_all(&mut *conn)
    .await?;
    let count = u64::try_from(requeued.len()).unwrap_or(u64::MAX);
    for ticket in requeued {
        effects.publish(Change::Assigned {
            ticket,
            agent: None,
        });
    }
    effects.wake(Worker::Router);
    Ok(count)
}
