//! The people admins manage: the agent list, edits, and "last seen".

use serde::Serialize;

use crate::clock::{Every, now_ms};
use crate::users::Role;
use crate::{Error, Result};

/// Online within this long of the last request; away for a while after.
const ONLINE_FOR_MS: i64 = 2 * 60 * 1000;
const AWAY_FOR_MS: i64 = 15 * 60 * 1000;

use protocol::account::Availability;
pub use protocol::account::Presence;

/// Presence for someone without a socket (a program using the REST API): from their
/// last request.
pub fn presence_from_last_seen(now: i64, last_seen: Option<i64>) -> Presence {
    match last_seen.map(|at| now - at) {
        Some(ago) if ago <= ONLINE_FOR_MS => Presence::Online,
        Some(ago) if ago <= AWAY_FOR_MS => Presence::Away,
        _ => Presence::Offline,
    }
}

/// A row of the admin's agent list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// False while an invitation is pending.
    pub has_password: bool,
    pub last_seen_at: Option<i64>,
    pub presence: Presence,
    pub open_tickets: i64,
    /// Their own limit for automatic assignment (`None`: each connection's default).
    pub capacity: Option<i64>,
}

/// Everyone, active first, then by name.
/// Presence comes from open sockets where there are any (see `realtime::presence`);
/// someone whose last tab closed is offline; anyone else's is from the last request
/// (programs using the REST API), *away* if they chose it.
pub async fn list(services: &crate::Services) -> Result<Vec<Person>> {
    let now = now_ms();
    let sockets = services.hub.sockets();
    // With replicas, the tabs on the others count too.
    let elsewhere = match services.hub.fleet() {
        Some(_) => Some(crate::realtime::fleet::elsewhere(services).await?),
        None => None,
    };
    let rows = services.store.autocommit().await?.people_all().await?;
    let presence_of = |user: i64, availability: Availability| match &elsewhere {
        None => sockets.presence(user),
        Some(others) => {
            let here = sockets.counts(user);
            let there = others.get(&user).copied().unwrap_or_default();
            crate::realtime::presence::presence_from(
                store::replicas::Sockets {
                    sockets: here.sockets + there.sockets,
                    active: here.active + there.active,
                },
                availability == Availability::Away,
            )
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| Person {
            presence: match presence_of(r.id, r.availability) {
                _ if !r.active => Presence::Offline,
                Some(presence) => presence,
                // Their last tab closed, here or on another replica.
                None if sockets.left(r.id)
                    || elsewhere.as_ref().is_some_and(|e| e.contains_key(&r.id)) =>
                {
                    Presence::Offline
                }
                None => match presence_from_last_seen(now, r.last_seen_at) {
                    Presence::Online if r.availability == Availability::Away => Presence::Away,
                    presence => presence,
                },
            },
            id: r.id,
            public_id: r.public_id,
            email: r.email,
            name: r.name,
            role: r.role,
            active: r.active,
            has_password: r.has_password,
            last_seen_at: r.last_seen_at,
            open_tickets: r.open,
            capacity: r.capacity,
        })
        .collect())
}

/// Renames an account and sets its role. The last active admin cannot be demoted.
pub async fn update(store: &dyn store::Store, user: i64, name: &str, role: Role) -> Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    let mut tx = store.write().await?;
    let (current, active) = tx.user_role(user).await?.ok_or(Error::NotFound("user"))?;
    if active && current == Role::Admin && role != Role::Admin {
        super::ensure_another_admin(&mut *tx).await?;
    }
    tx.user_update(user, name, role).await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers when each account was last active, writing to the database at most once
/// a minute per account, so that a busy agent does not turn every request into a
/// write.
#[derive(Debug)]
pub struct LastSeen {
    written: Every,
}

const WRITE_EVERY_MS: i64 = 60 * 1000;

impl Default for LastSeen {
    fn default() -> Self {
        Self {
            written: Every::new(WRITE_EVERY_MS),
        }
    }
}

impl LastSeen {
    pub async fn touch(&self, store: &dyn store::Store, user: i64) -> Result<()> {
        let now = now_ms();
        if !self.written.due(user, now) {
            return Ok(());
        }
        store.autocommit().await?.user_touch(user, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_follows_the_last_request() {
        let now = 10 * AWAY_FOR_MS;
        assert_eq!(
            presence_from_last_seen(now, Some(now - 1000)),
            Presence::Online
        );
        assert_eq!(
            presence_from_last_seen(now, Some(now - ONLINE_FOR_MS - 1)),
            Presence::Away
        );
        assert_eq!(
            presence_from_last_seen(now, Some(now - AWAY_FOR_MS - 1)),
            Presence::Offline
        );
        assert_eq!(presence_from_last_seen(now, None), Presence::Offline);
    }
}
