//! Presence across replicas, on PostgreSQL: each replica writes how many sockets
//! each account has open on it (and how many in a tab in use) to the database, and
//! renews a promise to be alive every [`BEAT`]. An account's presence is the sum
//! over the replicas alive, so a tab on replica A keeps an agent online while their
//! tab on replica B closes; a replica that dies stops counting once its promise has
//! run out ([`ALIVE_FOR`]).
//!
//! Each change of this replica's sockets is written in a write transaction, which
//! also reads the other replicas' counts: writes are serialised, so two replicas
//! changing one account at once see each other's counts, and the one that changes
//! the sum announces it (in the same transaction, through the events table).

use std::collections::HashMap;
use std::time::Duration;

use protocol::account::{Availability, Presence};
use protocol::realtime::Change;
use store::replicas::Sockets;
use tokio_util::sync::CancellationToken;

use super::presence::presence_from;
use crate::clock::now_ms;
use crate::effects::Effects;
use crate::{Error, Result, Services};

/// How often a replica renews its promise to be alive.
pub const BEAT: Duration = Duration::from_secs(5);
/// How long a promise lasts: three beats, so one slow beat does not end it.
pub const ALIVE_FOR: Duration = Duration::from_secs(15);

/// What this replica last wrote, per account (it alone writes its rows).
#[derive(Debug, Default)]
pub struct Fleet {
    written: tokio::sync::Mutex<HashMap<i64, Sockets>>,
    /// How many replicas were alive at the last beat (this one included).
    alive: std::sync::atomic::AtomicU64,
}

impl Fleet {
    /// How many replicas are alive (at least this one).
    pub fn replicas(&self) -> u64 {
        self.alive.load(std::sync::atomic::Ordering::Relaxed).max(1)
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn sum(a: Sockets, b: Sockets) -> Sockets {
    Sockets {
        sockets: a.sockets + b.sockets,
        active: a.active + b.active,
    }
}

/// Writes `user`'s sockets on this replica and announces the presence the sum over
/// every replica shows now, if it changed. `was_away` is the choice before, when the
/// change is a new choice (else it is the stored one, before and after).
pub async fn sync(
    services: &Services,
    user: i64,
    public_id: &str,
    was_away: Option<bool>,
) -> Result<()> {
    let Some(fleet) = services.hub.fleet() else {
        return Ok(());
    };
    // One at a time on this replica: each compares with what the last one wrote.
    let mut written = fleet.written.lock().await;
    let mine = services.hub.sockets().counts(user);
    let before_mine = written.get(&user).copied().unwrap_or_default();
    let now = now_ms();
    let mut tx = services.store.write().await?;
    let away = tx.user_availability(user).await? == Some(Availability::Away);
    let shared = tx
        .replicas()
        .ok_or_else(|| Error::Internal("this database cannot share presence".into()))?;
    shared
        .replica_alive(services.replica(), now + ms(ALIVE_FOR))
        .await?;
    let elsewhere = shared
        .sockets_elsewhere(user, services.replica(), now)
        .await?;
    shared.sockets_set(services.replica(), user, mine).await?;
    let before = presence_from(sum(before_mine, elsewhere), was_away.unwrap_or(away));
    let after = presence_from(sum(mine, elsewhere), away);
    // Written here rather than through `Effects`, to know its number: this replica
    // sends it before the socket that caused it subscribes, as one process does.
    let mut seq = 0;
    if before != after {
        let change = Change::Presence {
            agent: public_id.to_owned(),
            presence: after.unwrap_or(Presence::Offline),
        };
        seq = shared
            .events_append(&[super::shared::stored(&change, &super::Audience::Everyone)])
            .await?;
    }
    tx.commit().await?;
    if let Ok(seq) = u64::try_from(seq)
        && seq > 0
    {
        services.hub.reach(seq, Duration::from_secs(1)).await;
    }
    if mine.sockets > 0 {
        written.insert(user, mine);
    } else {
        written.remove(&user);
    }
    Ok(())
}

/// Every account's sockets on the other replicas alive (this one's are in memory,
/// and newer).
pub async fn elsewhere(services: &Services) -> Result<HashMap<i64, Sockets>> {
    let mut tx = services.store.read().await?;
    let shared = tx
        .replicas()
        .ok_or_else(|| Error::Internal("this database cannot share presence".into()))?;
    Ok(shared
        .sockets_all(now_ms(), services.replica())
        .await?
        .into_iter()
        .collect())
}

/// Whether `user` is available (a tab open on any replica, *Available* chosen), as
/// automatic assignment and reports count it; inside the caller's transaction.
pub async fn ready_in(services: &Services, tx: &mut dyn store::Session, user: i64) -> Result<bool> {
    if tx.user_availability(user).await? == Some(Availability::Away) {
        return Ok(false);
    }
    if services.hub.sockets().counts(user).sockets > 0 {
        return Ok(true);
    }
    let Some(shared) = tx.replicas() else {
        return Ok(false);
    };
    let elsewhere = shared
        .sockets_elsewhere(user, services.replica(), now_ms())
        .await?;
    Ok(elsewhere.sockets > 0)
}

/// The accounts automatic assignment may give tickets to, on every replica.
pub async fn ready(services: &Services) -> Result<Vec<i64>> {
    let mut ready = services.hub.sockets().ready();
    let mut tx = services.store.read().await?;
    let others: Vec<i64> = match tx.replicas() {
        Some(shared) => shared
            .sockets_all(now_ms(), services.replica())
            .await?
            .into_iter()
            .filter(|(_, s)| s.sockets > 0)
            .map(|(user, _)| user)
            .collect(),
        None => Vec::new(),
    };
    for user in others {
        if !ready.contains(&user)
            && tx.user_availability(user).await? == Some(Availability::Available)
        {
            ready.push(user);
        }
    }
    ready.sort_unstable();
    Ok(ready)
}

/// Renews this replica's promise every [`BEAT`], and forgets replicas whose promise
/// ran out, announcing the presence of their accounts. Until `cancel` fires; then it
/// forgets itself, so its sockets stop counting at once.
pub async fn beat(services: Services, cancel: CancellationToken) {
    loop {
        if let Err(e) = renew(&services).await {
            tracing::warn!(error = ?e, "presence: cannot renew this replica");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(BEAT) => {}
        }
    }
    let gone = async {
        let mut tx = services.store.write().await?;
        if let Some(shared) = tx.replicas() {
            shared.replica_gone(services.replica()).await?;
        }
        tx.commit().await?;
        Ok::<(), Error>(())
    };
    if let Err(e) = gone.await {
        tracing::warn!(error = ?e, "presence: cannot say this replica is stopping");
    }
}

async fn renew(services: &Services) -> Result<()> {
    let now = now_ms();
    let mut tx = services.store.write().await?;
    let shared = tx
        .replicas()
        .ok_or_else(|| Error::Internal("this database cannot share presence".into()))?;
    shared
        .replica_alive(services.replica(), now + ms(ALIVE_FOR))
        .await?;
    let orphaned = shared.replicas_expire(now).await?;
    let orphaned_users = orphaned.clone();
    let alive = shared.replicas_alive(now).await?;
    if let Some(fleet) = services.hub.fleet() {
        fleet.alive.store(
            u64::try_from(alive).unwrap_or(1),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    let mut effects = Effects::new();
    if !orphaned.is_empty() {
        tracing::warn!(
            accounts = orphaned.len(),
            "presence: a replica stopped answering; its sockets no longer count"
        );
        let mut left: HashMap<i64, Sockets> = shared
            .sockets_all(now, services.replica())
            .await?
            .into_iter()
            .collect();
        for &user in &orphaned {
            let Some(found) = tx.user_get(user).await? else {
                continue;
            };
            let away = tx.user_availability(user).await? == Some(Availability::Away);
            let here = services.hub.sockets().counts(user);
            let there = left.remove(&user).unwrap_or_default();
            let presence = presence_from(sum(here, there), away);
            effects.publish_to_everyone(Change::Presence {
                agent: found.public_id,
                presence: presence.unwrap_or(Presence::Offline),
            });
        }
    }
    services.commit_session(tx, effects).await?;
    // Their availability in reports ends, unless they are still here or elsewhere.
    for user in orphaned_users {
        crate::reports::availability::sync(services, user);
    }
    Ok(())
}
