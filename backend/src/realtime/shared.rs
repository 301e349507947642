//! A shared hub's tasks, on PostgreSQL: several replicas, one stream of events.
//!
//! - [`append`] writes to the events table the events that no transaction carried
//!   (those applied with [`crate::Services::apply`]), in the order they came;
//! - [`relay`] reads the table in order and delivers every new event to this
//!   replica's sockets. A `NOTIFY` sent as each writing transaction commits wakes it
//!   at once; it also looks every [`POLL`], because a wake-up sent while its
//!   listening connection was being re-established is lost;
//! - [`prune`] keeps the table to the last [`REPLAY_EVENTS`], on one replica.

use std::sync::Arc;
use std::time::Duration;

use protocol::realtime::Change;
use sqlx::postgres::PgListener;
use store::events::{CHANNEL, EventRow, NewEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Audience, Hub, REPLAY_EVENTS};
use crate::Result;

/// How often the relay reads the table without a wake-up.
pub const POLL: Duration = Duration::from_secs(1);
/// Events read at a time.
const PAGE: i64 = 1_000;

/// An event as the table stores it.
pub fn stored(change: &Change, audience: &Audience) -> NewEvent {
    NewEvent {
        // A plain enum of strings and numbers always serialises.
        change: serde_json::to_string(change).unwrap_or_default(),
        audience: match audience {
            Audience::Everyone => None,
            Audience::One(user) => Some(vec![*user]),
            Audience::These(users) => Some(users.to_vec()),
        },
    }
}

/// A stored event, as the hub sends it. One this build cannot read (written by a
/// newer one during a rolling upgrade) is skipped, with a warning.
fn read(row: EventRow) -> Option<(u64, Change, Audience)> {
    let seq = u64::try_from(row.seq).ok()?;
    match serde_json::from_str::<Change>(&row.change) {
        Ok(change) => {
            let audience = row
                .audience
                .map_or(Audience::Everyone, |users| Audience::These(users.into()));
            Some((seq, change, audience))
        }
        Err(e) => {
            tracing::warn!(seq, error = %e, "realtime: an event this version cannot read");
            None
        }
    }
}

/// Fills the hub's replay ring from the table, before the replica serves: a client
/// that reconnects here from another replica resumes from its last number.
pub async fn start(store: &dyn store::Store, hub: &Hub) -> Result<()> {
    let most = i64::try_from(REPLAY_EVENTS).unwrap_or(i64::MAX);
    let mut tx = store.read().await?;
    let Some(events) = tx.replicas() else {
        return Ok(());
    };
    let rows = events.events_latest(most).await?;
    let whole = (rows.len() as i64) < most;
    hub.start_from(rows.into_iter().filter_map(read).collect(), whole);
    Ok(())
}

/// Delivers what the table holds past what this hub has sent.
async fn catch_up(store: &dyn store::Store, hub: &Hub) -> Result<()> {
    loop {
        let after = i64::try_from(hub.last_seq()).unwrap_or(i64::MAX);
        let mut tx = store.read().await?;
        let Some(events) = tx.replicas() else {
            return Ok(());
        };
        let rows = events.events_after(after, PAGE).await?;
        let full = rows.len() as i64 == PAGE;
        for (seq, change, audience) in rows.into_iter().filter_map(read) {
            hub.deliver(seq, change, audience);
        }
        if !full {
            return Ok(());
        }
    }
}

/// Relays the table's new events to this replica's sockets until `cancel` fires.
pub async fn relay(
    pool: sqlx::PgPool,
    store: Arc<dyn store::Store>,
    hub: Hub,
    cancel: CancellationToken,
) {
    let mut listener: Option<PgListener> = None;
    loop {
        if listener.is_none() {
            listener = listen(&pool).await;
        }
        // After listening: a wake-up sent while this reads is kept for the next turn.
        if let Err(e) = catch_up(&*store, &hub).await {
            tracing::warn!(error = ?e, "realtime: cannot read new events; will retry");
        }
        let woken = async {
            match listener.as_mut() {
                Some(l) => match l.try_recv().await {
                    // Many commits, one read: the ones already queued are covered.
                    Ok(Some(_)) => {
                        while l.next_buffered().is_some() {}
                        true
                    }
                    // The connection dropped, and with it any wake-up sent meanwhile.
                    Ok(None) => true,
                    Err(_) => false,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            ok = woken => if !ok {
                listener = None;
            },
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn listen(pool: &sqlx::PgPool) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "realtime: cannot listen for events; reading every second");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "realtime: cannot listen for events; reading every second");
            None
        }
    }
}

/// Writes the events [`Hub::publish`] was handed, in order, until `cancel` fires
/// and nothing is left.
pub async fn append(
    store: Arc<dyn store::Store>,
    mut changes: mpsc::UnboundedReceiver<(Change, Audience)>,
    cancel: CancellationToken,
) {
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            // Biased: at shutdown, what is queued is still written.
            biased;
            n = changes.recv_many(&mut batch, 256) => if n == 0 {
                return;
            },
            () = cancel.cancelled() => {
                changes.close();
                continue;
            }
        }
        let events: Vec<NewEvent> = batch.drain(..).map(|(c, a)| stored(&c, &a)).collect();
        for attempt in 0..6_u32 {
            match write(&*store, &events).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::error!(error = ?e, attempt, "realtime: cannot write events");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
            }
        }
    }
}

async fn write(store: &dyn store::Store, events: &[NewEvent]) -> Result<()> {
    let mut tx = store.write().await?;
    if let Some(table) = tx.replicas() {
        table.events_append(events).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes events no replica can replay any more, once a minute, on the replica that
/// holds the job's lease.
pub async fn prune(services: crate::Services, cancel: CancellationToken) {
    let keep = i64::try_from(REPLAY_EVENTS).unwrap_or(i64::MAX);
    crate::jobs::every(
        &services,
        crate::jobs::Job::PruneEvents,
        Duration::from_secs(60),
        &cancel,
        |services| async move {
            let mut tx = services.store.write().await?;
            if let Some(events) = tx.replicas() {
                events.events_prune(keep).await?;
            }
            tx.commit().await?;
            Ok(())
        },
    )
    .await;
}
