//! The open websockets, by account: the source of presence, and the handles that
//! revocation uses to close a socket.
//!
//! An account with a socket whose tab is in use is online; with sockets that are all
//! idle (hidden tab, no input for a while), or that chose *Away*, it is away; with
//! none it is offline.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use protocol::account::{Availability, Presence};

use crate::auth::{Caller, Credential};

struct Entry {
    caller: Caller,
    active: bool,
    close: CancellationToken,
}

#[derive(Default)]
pub struct Sockets {
    next_id: Mutex<u64>,
    open: Mutex<HashMap<u64, Entry>>,
    /// The accounts that chose *Away* (taken with `open`, always after it).
    away: Mutex<HashSet<i64>>,
    /// The accounts whose last socket closed: offline now, whatever their last
    /// request says (taken with `open`, always after it).
    left: Mutex<HashSet<i64>>,
}

/// What a presence change should announce: (public id, new presence).
pub type PresenceChange = Option<(String, Presence)>;

impl Sockets {
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn away(&self) -> MutexGuard<'_, HashSet<i64>> {
        self.away
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn left_set(&self) -> MutexGuard<'_, HashSet<i64>> {
        self.left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the account had sockets and has closed them all since (this process
    /// has seen it leave).
    pub fn left(&self, user: i64) -> bool {
        self.left_set().contains(&user)
    }

    /// Presence from the sockets, and *Away* for whoever chose it.
    fn presence_with(&self, open: &HashMap<u64, Entry>, user: i64) -> Option<Presence> {
        let presence = Self::presence_of(open, user)?;
        Some(if self.away().contains(&user) {
            Presence::Away
        } else {
            presence
        })
    }

    fn presence_of(open: &HashMap<u64, Entry>, user: i64) -> Option<Presence> {
        let mut any = false;
        for entry in open.values().filter(|e| e.caller.user.id == user) {
            if entry.active {
                return Some(Presence::Online);
            }
            any = true;
        }
        any.then_some(Presence::Away)
    }

    /// Registers a socket; returns its id, the token that closes it, and the
    /// presence change to announce, if any.
    pub fn register(&self, caller: Caller) -> (u64, CancellationToken, PresenceChange) {
        let id = {
            let mut next = self
                .next_id
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *next += 1;
            *next
        };
        let close = CancellationToken::new();
        let mut open = self.open();
        let before = self.presence_with(&open, caller.user.id);
        let user = caller.user.id;
        let public_id = caller.user.public_id.clone();
        open.insert(
            id,
            Entry {
                caller,
                active: true,
                close: close.clone(),
            },
        );
        let after = self.presence_with(&open, user);
        self.left_set().remove(&user);
        (id, close, change(public_id, before, after))
    }

    /// Records what the account chose; returns the presence change to announce, if
    /// its sockets now show another one.
    pub fn choose(&self, user: i64, public_id: &str, choice: Availability) -> PresenceChange {
        let open = self.open();
        let before = self.presence_with(&open, user);
        match choice {
            Availability::Away => self.away().insert(user),
            Availability::Available => self.away().remove(&user),
        };
        change(
            public_id.to_owned(),
            before,
            self.presence_with(&open, user),
        )
    }

    /// The accounts automatic assignment may give tickets to: a socket open (a tab,
    /// hidden or not: alerts reach it) and not *Away*. Sorted, without repeats.
    pub fn ready(&self) -> Vec<i64> {
        let open = self.open();
        let away = self.away();
        let mut ready: Vec<i64> = open
            .values()
            .map(|e| e.caller.user.id)
            .filter(|u| !away.contains(u))
            .collect();
        ready.sort_unstable();
        ready.dedup();
        ready
    }

    /// `user`'s sockets here, and how many are in a tab in use.
    pub fn counts(&self, user: i64) -> store::replicas::Sockets {
        let open = self.open();
        let mut counts = store::replicas::Sockets::default();
        for entry in open.values().filter(|e| e.caller.user.id == user) {
            counts.sockets += 1;
            counts.active += i64::from(entry.active);
        }
        counts
    }

    /// Every account with sockets here, with its public id.
    pub fn accounts(&self) -> Vec<(i64, String)> {
        let mut accounts: Vec<(i64, String)> = self
            .open()
            .values()
            .map(|e| (e.caller.user.id, e.caller.user.public_id.clone()))
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    /// How many sockets `user` has open.
    pub fn open_for(&self, user: i64) -> usize {
        self.open()
            .values()
            .filter(|e| e.caller.user.id == user)
            .count()
    }

    /// The tab reported being in use (`true`) or idle (`false`).
    pub fn set_active(&self, socket: u64, active: bool) -> PresenceChange {
        let mut open = self.open();
        let (user, public_id) = match open.get(&socket) {
            Some(e) => (e.caller.user.id, e.caller.user.public_id.clone()),
            None => return None,
        };
        let before = self.presence_with(&open, user);
        if let Some(entry) = open.get_mut(&socket) {
            entry.active = active;
        }
        change(public_id, before, self.presence_with(&open, user))
    }

    pub fn unregister(&self, socket: u64) -> PresenceChange {
        let mut open = self.open();
        let user = open.get(&socket)?.caller.user.id;
        let before = self.presence_with(&open, user);
        let entry = open.remove(&socket)?;
        if Self::presence_of(&open, user).is_none() {
            self.left_set().insert(user);
        }
        change(
            entry.caller.user.public_id,
            before,
            self.presence_with(&open, user),
        )
    }

    /// An account's presence from its sockets; `None` without any.
    pub fn presence(&self, user: i64) -> Option<Presence> {
        self.presence_with(&self.open(), user)
    }

    /// Every open socket's caller, for the revocation sweep.
    pub fn callers(&self) -> Vec<(u64, Caller)> {
        self.open()
            .iter()
            .map(|(id, e)| (*id, e.caller.clone()))
            .collect()
    }

    /// Closes the given sockets (they unregister themselves as they end).
    pub fn close(&self, sockets: &[u64]) {
        let open = self.open();
        for id in sockets {
            if let Some(entry) = open.get(id) {
                entry.close.cancel();
            }
        }
    }

    /// Closes every socket opened with this browser session (on sign-out).
    pub fn close_session(&self, session: &str) {
        for entry in self.open().values() {
            if entry.caller.credential == Credential::Session(session.to_owned()) {
                entry.close.cancel();
            }
        }
    }

    /// Closes every socket of an account (deactivation, password change).
    pub fn close_user(&self, user: i64) {
        for entry in self.open().values() {
            if entry.caller.user.id == user {
                entry.close.cancel();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.open().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Presence from sockets (summed over replicas) and the account's choice.
pub fn presence_from(sockets: store::replicas::Sockets, away: bool) -> Option<Presence> {
    if sockets.sockets <= 0 {
        None
    } else if away || sockets.active <= 0 {
        Some(Presence::Away)
    } else {
        Some(Presence::Online)
    }
}

fn change(public_id: String, before: Option<Presence>, after: Option<Presence>) -> PresenceChange {
    let after = after.unwrap_or(Presence::Offline);
    (before.unwrap_or(Presence::Offline) != after).then_some((public_id, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(user: i64, session: &str) -> Caller {
        Caller {
            user: crate::users::User {
                id: user,
                public_id: format!("agt_{user}"),
                email: format!("{user}@example.com"),
                name: format!("Agent {user}"),
                role: crate::users::Role::Agent,
                active: true,
            },
            epoch: 0,
            credential: Credential::Session(session.into()),
        }
    }

    #[test]
    fn presence_follows_sockets_and_activity() {
        let sockets = Sockets::default();
        let (a, _, change) = sockets.register(agent(1, "s1"));
        assert_eq!(change, Some(("agt_1".into(), Presence::Online)));
        let (b, _, change) = sockets.register(agent(1, "s2"));
        assert_eq!(change, None, "a second tab changes nothing");
        assert_eq!(
            sockets.set_active(a, false),
            None,
            "the other tab is in use"
        );
        assert_eq!(
            sockets.set_active(b, false),
            Some(("agt_1".into(), Presence::Away))
        );
        assert_eq!(sockets.unregister(a), None);
        assert_eq!(
            sockets.unregister(b),
            Some(("agt_1".into(), Presence::Offline))
        );
        assert_eq!(sockets.presence(1), None);
        assert!(sockets.left(1));
        sockets.register(agent(1, "s3"));
        assert!(!sockets.left(1), "back again");
    }

    #[test]
    fn choosing_away_shows_as_away_while_any_tab_is_open() {
        let sockets = Sockets::default();
        // Chosen with no tab open: still offline, nothing to announce.
        assert_eq!(sockets.choose(1, "agt_1", Availability::Away), None);
        let (a, _, change) = sockets.register(agent(1, "s1"));
        assert_eq!(change, Some(("agt_1".into(), Presence::Away)));
        assert_eq!(
            sockets.choose(1, "agt_1", Availability::Available),
            Some(("agt_1".into(), Presence::Online))
        );
        assert_eq!(
            sockets.choose(1, "agt_1", Availability::Away),
            Some(("agt_1".into(), Presence::Away))
        );
        assert_eq!(sockets.set_active(a, false), None, "away either way");
        assert_eq!(
            sockets.unregister(a),
            Some(("agt_1".into(), Presence::Offline))
        );
        assert_eq!(sockets.presence(1), None);
    }

    #[test]
    fn ready_means_a_tab_open_and_not_away() {
        let sockets = Sockets::default();
        assert!(sockets.ready().is_empty());
        let (a, _, _) = sockets.register(agent(2, "s1"));
        sockets.register(agent(2, "s2"));
        let (c, _, _) = sockets.register(agent(1, "s3"));
        sockets.set_active(c, false);
        assert_eq!(sockets.ready(), [1, 2], "idle tabs count, once per account");
        sockets.choose(2, "agt_2", Availability::Away);
        assert_eq!(sockets.ready(), [1]);
        sockets.choose(2, "agt_2", Availability::Available);
        sockets.unregister(c);
        sockets.unregister(a);
        assert_eq!(sockets.ready(), [2], "agent 2 still has a tab");
    }

    #[test]
    fn closing_by_session_leaves_other_sessions_open() {
        let sockets = Sockets::default();
        let (_, one, _) = sockets.register(agent(1, "s1"));
        let (_, two, _) = sockets.register(agent(1, "s2"));
        sockets.close_session("s1");
        assert!(one.is_cancelled() && !two.is_cancelled());
        sockets.close_user(1);
        assert!(two.is_cancelled());
    }
}
