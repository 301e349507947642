//! When each agent was available (a tab open and *Available* chosen), kept as
//! intervals so reports can say how long, for any past period.
//!
//! The realtime side calls [`sync`] whenever an agent's sockets or choice change; it
//! opens an interval when they become available and closes it when they stop. At
//! start-up, intervals a stopped process left open are closed at the agent's last
//! request ([`close_stale`]).

use std::collections::HashMap;

use crate::clock::now_ms;
use crate::{Result, Services};

/// Records whether `user` is available now, in the background (a log entry must not
/// slow a socket down; a failure is logged).
pub fn sync(services: &Services, user: i64) {
    let services = services.clone();
    tokio::spawn(async move {
        if let Err(e) = sync_now(&services, user).await {
            tracing::warn!(error = ?e, user, "cannot record availability");
        }
    });
}

/// Reads whether `user` is available only once it holds the write lock, so that
/// syncs write in the order they read: the last to write saw the latest state. (Read
/// before waiting for the lock, a sync that waited long could reopen an interval that
/// a later one had already closed.)
async fn sync_now(services: &Services, user: i64) -> Result<()> {
    let mut tx = services.store.write().await?;
    let ready = if services.hub.fleet().is_some() {
        // With replicas, a tab on any of them counts.
        crate::realtime::fleet::ready_in(services, &mut *tx, user).await?
    } else {
        services.hub.sockets().ready().contains(&user)
    };
    apply(&mut *tx, user, ready, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Opens an interval for `user` if `ready` and none is open; closes the open one if
/// not.
pub async fn record(store: &dyn store::Store, user: i64, ready: bool, now: i64) -> Result<()> {
    let mut tx = store.write().await?;
    apply(&mut *tx, user, ready, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply(tx: &mut dyn store::Tx, user: i64, ready: bool, now: i64) -> Result<()> {
    if ready {
        tx.availability_start(user, now).await?;
    } else {
        tx.availability_end(user, now).await?;
    }
    Ok(())
}

/// Closes intervals left open by a process that stopped, at the agent's last request
/// (or where they began, if that is later).
pub async fn close_stale(store: &dyn store::Store) -> Result<u64> {
    let mut tx = store.write().await?;
    let closed = tx.availability_close_stale().await?;
    tx.commit().await?;
    Ok(closed)
}

/// Seconds each agent was available within `[start, end)` (UTC ms); an interval
/// still open counts until now.
pub async fn seconds(tx: &mut dyn store::Tx, start: i64, end: i64) -> Result<HashMap<i64, i64>> {
    let rows = tx.availability_ms(start, end, now_ms()).await?;
    Ok(rows
        .into_iter()
        .map(|(user, ms)| (user, ms / 1000))
        .collect())
}
