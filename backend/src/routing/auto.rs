//! The router: what happens to queued tickets without a person deciding.
//!
//! Each pass, in order:
//! 1. **Screening** of tickets that just arrived: on a connection set to hand back
//!    what nobody can take, a ticket that arrived outside business hours, or while
//!    nobody who serves the connection was available, is handed back to the bot
//!    with the connection's message (`/message-from-agent` as Baton, then
//!    `/stop-hitl`).
//! 2. **Wait limit**: on such a connection, a ticket queued longer than the limit
//!    is handed back the same way.
//! 3. **Assignment**, below.
//! 4. **Queue positions**: where the connection has a text for it, each waiting
//!    customer is told their place when it changes (and when they arrive).
//!
//! Automatic assignment: on connections set to *automatic*, a queued ticket goes to
//! an agent who serves the connection, has a tab open, chose *Available*, and holds
//! fewer open tickets than their capacity. Oldest ticket first; among agents, the
//! least busy first, then whoever was given one longest ago (so equals take turns).
//!
//! A single router task does this whenever something may have made an assignment
//! possible: a new or reopened ticket, a ticket closed, handed back or transferred
//! (capacity freed), an agent opening a tab or choosing *Available*, a change of
//! teams or routing settings. It is woken through `effects` like the other workers,
//! and also looks every [`SWEEP`] in case a wake was missed.
//!
//! Each pass is one write transaction, so it serialises with agents taking tickets
//! by hand: a ticket is never given twice, and the count it checks a capacity
//! against cannot change under it. Botpress hears `/agent-assigned` exactly as for
//! a manual take. Capacity limits only what Baton gives: an agent may still take
//! more by hand.

use std::time::Duration;

use protocol::realtime::Change;
use protocol::routing::WhenUnavailable;
use protocol::ticket::{ClosedReason, Status};
use tokio_util::sync::CancellationToken;

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::effects::Effects;
use crate::outbox::{self, WebhookCall};
use crate::tickets::activity::{self, Action};
use crate::tickets::lifecycle;
use crate::{Result, Services};

/// How often the router looks even when nothing woke it.
pub const SWEEP: Duration = Duration::from_secs(60);
/// The most tickets one pass assigns, or hands back (the rest go on the next, at
/// once).
const PASS: usize = 200;
const PASS_I64: i64 = 200;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Tickets given to agents.
    pub given: usize,
    /// Tickets handed back to the bot because nobody could take them.
    pub returned: usize,
    /// Customers told their place in the queue.
    pub told: usize,
}

/// Hands a ticket nobody can take back to the bot: the connection's message to the
/// customer first (if it has one), then `/stop-hitl`, in the ticket's order.
async fn hand_back(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: (i64, &str),
    message: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    let (id, remote_id) = ticket;
    if !message.trim().is_empty() {
        let notice = WebhookCall::Notice {
            conversation: remote_id.to_owned(),
            text: message.trim().to_owned(),
        };
        outbox::enqueue(tx, effects, id, &notice, now).await?;
    }
    lifecycle::close(tx, effects, id, ClosedReason::HandedBack, now).await?;
    let stop = WebhookCall::Stop {
        conversation: remote_id.to_owned(),
    };
    outbox::enqueue(tx, effects, id, &stop, now).await?;
    activity::record(tx, id, None, Action::Returned, None, Some(reason), now).await?;
    audit::record(
        tx,
        &routing_actor(),
        Action::Returned.audit_name(),
        serde_json::json!({ "ticket": remote_id, "reason": reason }),
    )
    .await
}

fn routing_actor() -> Actor {
    Actor {
        id: None,
        label: "routing".into(),
        ip: None,
    }
}

/// Looks once at each ticket that just arrived: on a connection that hands back
/// what nobody can take, one that came outside business hours or while nobody who
/// serves it was available goes back to the bot.
async fn screen(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ready: &[i64],
    now: i64,
) -> Result<usize> {
    let fresh = tx.routing_fresh(ready, PASS_I64).await?;
    let mut returned = 0;
    for t in fresh {
        tx.ticket_screened(t.id).await?;
        if t.status != Status::Queued || t.when_unavailable != WhenUnavailable::HandBack {
            continue;
        }
        let hours = super::settings::parse_hours(t.hours.as_deref())?;
        let reason = match hours {
            Some(h) if !super::hours::open_at(&h, t.created_at)? => "outside business hours",
            _ if !t.anyone => "no agent was available",
            _ => continue,
        };
        let ticket = (t.id, t.remote_id.as_str());
        hand_back(tx, effects, ticket, &t.unavailable_message, reason, now).await?;
        returned += 1;
    }
    Ok(returned)
}

/// Hands back tickets queued longer than their connection's wait limit.
async fn past_wait_limit(tx: &mut dyn store::Tx, effects: &mut Effects, now: i64) -> Result<usize> {
    let late = tx.routing_past_wait_limit(now, PASS_I64).await?;
    for (id, remote_id, message) in &late {
        let reason = "nobody took it within the wait limit";
        hand_back(tx, effects, (*id, remote_id), message, reason, now).await?;
    }
    Ok(late.len())
}

/// Tells waiting customers their place in the queue where it changed, on
/// connections with a text for it.
async fn positions(tx: &mut dyn store::Tx, effects: &mut Effects, now: i64) -> Result<usize> {
    let waiting = tx.routing_waiting().await?;
    let mut told = 0;
    for t in waiting
        .iter()
        .filter(|t| t.told_position != Some(t.position))
    {
        if told == PASS {
            break;
        }
        let notice = WebhookCall::Notice {
            conversation: t.remote_id.clone(),
            text: protocol::routing::position_text(&t.text, t.position),
        };
        outbox::enqueue(tx, effects, t.id, &notice, now).await?;
        tx.ticket_told_position(t.id, t.position).await?;
        told += 1;
    }
    Ok(told)
}

/// One pass: screening, wait limits, assignment, queue positions.
pub async fn route(services: &Services) -> Result<Pass> {
    // With replicas, an agent with a tab on any of them is ready.
    let ready = if services.hub.fleet().is_some() {
        crate::realtime::fleet::ready(services).await?
    } else {
        services.hub.sockets().ready()
    };
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let mut pass = Pass {
        returned: screen(&mut *tx, &mut effects, &ready, now).await?,
        ..Pass::default()
    };
    pass.returned += past_wait_limit(&mut *tx, &mut effects, now).await?;
    if !ready.is_empty() {
        pass.given = assign(&mut *tx, &mut effects, &ready, now).await?;
    }
    pass.told = positions(&mut *tx, &mut effects, now).await?;
    services.commit_session(tx, effects).await?;
    if pass != Pass::default() {
        tracing::info!(
            given = pass.given,
            returned = pass.returned,
            told = pass.told,
            "routed queued tickets"
        );
    }
    Ok(pass)
}

/// Gives out what can be given now; how many tickets.
async fn assign(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ready: &[i64],
    now: i64,
) -> Result<usize> {
    let baton = routing_actor();
    let mut given = 0;
    while given < PASS {
        let Some(pick) = tx.routing_next_pick(ready).await? else {
            break;
        };
        activity::record(
            tx,
            pick.ticket,
            None,
            Action::Routed,
            Some(pick.agent),
            None,
            now,
        )
        .await?;
        audit::record(
            tx,
            &baton,
            Action::Routed.audit_name(),
            serde_json::json!({ "ticket": pick.remote_id, "agent": pick.agent_public_id }),
        )
        .await?;
        tx.user_routed(pick.agent, now).await?;
        crate::tickets::commands::hand_over(
            tx,
            effects,
            pick.ticket,
            &pick.remote_id,
            &pick.agent_public_id,
            pick.agent,
            now,
        )
        .await?;
        effects.publish_to(
            pick.agent,
            Change::AssignedToYou {
                ticket: pick.remote_id,
            },
        );
        given += 1;
    }
    Ok(given)
}

/// The router task: a pass whenever woken, and every [`SWEEP`].
pub async fn run(services: Services, cancel: CancellationToken) {
    loop {
        let woken = services.wakers.router.notified();
        let more = match route(&services).await {
            Ok(pass) => pass.given >= PASS || pass.returned >= PASS,
            Err(e) => {
                tracing::error!(error = ?e, "automatic assignment failed");
                false
            }
        };
        if more {
            continue;
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = woken => {}
            () = tokio::time::sleep(SWEEP) => {}
        }
    }
}
