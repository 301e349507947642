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
use sqlx::SqliteConnection;
use tokio_util::sync::CancellationToken;

use crate::audit::{Actor, audit_in};
use crate::clock::now_ms;
use crate::effects::Effects;
use crate::tickets::activity::{self, Action};
use crate::{Result, Services, db};

/// How often the router looks even when nothing woke it.
pub const SWEEP: Duration = Duration::from_secs(60);
/// The most tickets one pass assigns (the rest go on the next, at once).
const PASS: usize = 200;

/// One ticket and the agent it goes to.
struct Pick {
    ticket: i64,
    remote_id: String,
    agent: i64,
    agent_public_id: String,
}

/// The best next assignment, if any, among `ready` (accounts with a tab open that
/// did not choose *Away*, as JSON ids).
async fn next_pick(conn: &mut SqliteConnection, ready: &str) -> Result<Option<Pick>> {
    Ok(sqlx::query_as!(
        Pick,
        r#"with agents as (
               select u.id, u.public_id, u.capacity, u.last_routed_at,
                      (select count(*) from tickets h
                        where h.assignee_id = u.id and h.status = 'assigned') as open
               from users u
               where u.active = 1 and u.availability = 'available'
                 and u.id in (select value from json_each(?)))
           select t.id as "ticket!", t.remote_id, a.id as "agent!: i64",
                  a.public_id as agent_public_id
           from tickets t
           join connections c on c.id = t.connection_id
           join connection_agents ca on ca.connection_id = t.connection_id
           join agents a on a.id = ca.user_id
           where t.status = 'queued' and c.assignment = 'automatic'
             and a.open < coalesce(a.capacity, c.default_capacity)
           order by t.created_at, t.id, a.open, a.last_routed_at nulls first, a.id
           limit 1"#,
        ready
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Assigns what can be assigned now; how many tickets it gave out.
pub async fn route(services: &Services) -> Result<usize> {
    let ready = services.hub.sockets().ready();
    if ready.is_empty() {
        return Ok(0);
    }
    let ready = serde_json::to_string(&ready)
        .map_err(|e| crate::Error::Internal(format!("cannot encode ids: {e}")))?;
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = db::begin_write(&services.db).await?;
    let baton = Actor {
        id: None,
        label: "routing".into(),
        ip: None,
    };
    let mut given = 0;
    while given < PASS {
        let Some(pick) = next_pick(&mut tx, &ready).await? else {
            break;
        };
        activity::record_in(
            &mut tx,
            pick.ticket,
            None,
            Action::Routed,
            Some(pick.agent),
            now,
        )
        .await?;
        audit_in(
            &mut tx,
            &baton,
            Action::Routed.audit_name(),
            serde_json::json!({ "ticket": pick.remote_id, "agent": pick.agent_public_id }),
        )
        .await?;
        sqlx::query!(
            "update users set last_routed_at = ? where id = ?",
            now,
            pick.agent
        )
        .execute(&mut *tx)
        .await?;
        crate::tickets::commands::hand_over_in(
            &mut tx,
            &mut effects,
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
    services.commit(tx, effects).await?;
    if given > 0 {
        tracing::info!(given, "assigned queued tickets automatically");
    }
    Ok(given)
}

/// The router task: a pass whenever woken, and every [`SWEEP`].
pub async fn run(services: Services, cancel: CancellationToken) {
    loop {
        let woken = services.wakers.router.notified();
        let more = match route(&services).await {
            Ok(given) => given >= PASS,
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
