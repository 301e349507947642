//! Every change of a ticket's status, whoever causes it: a person (`commands`),
//! Botpress (`botpress::inbound`, `botpress::mapping`), an admin deactivating an
//! account, or the housekeeping sweep. Each runs inside its caller's transaction and
//! records the realtime event it causes in the caller's effects.
//!
//! Queued → assigned (`commands::assign`) → closed (here); closed → queued when the
//! customer writes again (`reopen`); assigned → queued when the holder's account
//! is deactivated (`requeue_held_by`).

use protocol::realtime::Change;
use protocol::ticket::ClosedReason;

use super::activity::{self, Action};
use crate::audit::{self, Actor};
use crate::effects::{Effects, Holders, Worker};
use crate::{Result, outbox};

/// Closes a ticket if it is open; whether it did. When the Botpress side ended the
/// session, calls still waiting to be delivered are pointless (Botpress would drop
/// them silently), so they are marked failed with the reason instead of being sent.
pub async fn close(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: i64,
    reason: ClosedReason,
    now: i64,
) -> Result<bool> {
    let Some(remote_id) = tx.ticket_close(ticket, reason, now).await? else {
        return Ok(false);
    };
    if reason.ended_by_botpress() {
        let why = "the conversation ended before this was delivered";
        outbox::cancel_pending(tx, ticket, why, now).await?;
    }
    let change = Change::Closed { ticket: remote_id };
    effects.publish_ticket_row(tx, ticket, change).await?;
    // Its holder has room for another (automatic assignment).
    effects.wake(Worker::Router);
    Ok(true)
}

/// The customer wrote in a ticket we closed: Botpress still relays, so the session is
/// live on its side (a lost `/stop-hitl`, an abandoned ticket whose customer came
/// back). Back to the queue, where someone will see it, rather than unread in a closed
/// ticket. Whether it reopened.
pub async fn reopen(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: i64,
    now: i64,
) -> Result<bool> {
    let Some(remote_id) = tx.ticket_reopen(ticket, now).await? else {
        return Ok(false);
    };
    tracing::info!(ticket, "customer wrote in a closed ticket; reopened it");
    activity::record(tx, ticket, None, Action::Reopened, None, None, now).await?;
    let botpress = Actor {
        id: None,
        label: "botpress".into(),
        ip: None,
    };
    audit::record(
        tx,
        &botpress,
        Action::Reopened.audit_name(),
        serde_json::json!({ "ticket": remote_id }),
    )
    .await?;
    let change = Change::Assigned {
        ticket: remote_id,
        agent: None,
    };
    effects.publish_ticket_row(tx, ticket, change).await?;
    effects.wake(Worker::Router);
    Ok(true)
}

/// Puts the tickets `user` holds back in the queue (their account was deactivated);
/// how many.
pub async fn requeue_held_by(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    user: i64,
    now: i64,
) -> Result<u64> {
    let requeued = tx.tickets_requeue_held_by(user, now).await?;
    let count = u64::try_from(requeued.len()).unwrap_or(u64::MAX);
    for ticket in requeued {
        let change = Change::Assigned {
            ticket: ticket.remote_id,
            agent: None,
        };
        effects
            .publish_ticket(tx, ticket.connection_id, Holders::Known(Vec::new()), change)
            .await?;
    }
    effects.wake(Worker::Router);
    Ok(count)
}
