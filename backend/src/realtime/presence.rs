//! The open websockets, by account: the source of presence, and the handles that
//! revocation uses to close a socket.
//!
//! An account with a socket whose tab is in use is online; with sockets that are all
//! idle (hidden tab, no input for a while) it is away; with none it is offline.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::accounts::people::Presence;

/// How a socket authenticated, so revocation can tell when that stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (its id, for sign-out).
    Session(String),
    /// A personal API token (its row id, for revocation).
    Token(i64),
}

/// Who is on the other end of a socket.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: i64,
    /// The agent's public id (`agt_…`), as presence events name them.
    pub public_id: String,
    /// The account's auth epoch when the socket opened; a bump voids the socket.
    pub epoch: i64,
    pub credential: Credential,
}

struct Entry {
    principal: Principal,
    active: bool,
    close: CancellationToken,
}

#[derive(Default)]
pub struct Sockets {
    next_id: Mutex<u64>,
    open: Mutex<HashMap<u64, Entry>>,
}

/// What a presence change should announce: (public id, new presence).
pub type PresenceChange = Option<(String, Presence)>;

impl Sockets {
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn presence_in(open: &HashMap<u64, Entry>, user: i64) -> Option<Presence> {
        let mut any = false;
        for entry in open.values().filter(|e| e.principal.user == user) {
            if entry.active {
                return Some(Presence::Online);
            }
            any = true;
        }
        any.then_some(Presence::Away)
    }

    /// Registers a socket; returns its id, the token that closes it, and the
    /// presence change to announce, if any.
    pub fn register(&self, principal: Principal) -> (u64, CancellationToken, PresenceChange) {
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
        let before = Self::presence_in(&open, principal.user);
        let user = principal.user;
        let public_id = principal.public_id.clone();
        open.insert(
            id,
            Entry {
                principal,
                active: true,
                close: close.clone(),
            },
        );
        let after = Self::presence_in(&open, user);
        (id, close, change(public_id, before, after))
    }

    /// How many sockets `user` has open.
    pub fn open_for(&self, user: i64) -> usize {
        self.open()
            .values()
            .filter(|e| e.principal.user == user)
            .count()
    }

    /// The tab reported being in use (`true`) or idle (`false`).
    pub fn set_active(&self, socket: u64, active: bool) -> PresenceChange {
        let mut open = self.open();
        let (user, public_id) = match open.get(&socket) {
            Some(e) => (e.principal.user, e.principal.public_id.clone()),
            None => return None,
        };
        let before = Self::presence_in(&open, user);
        if let Some(entry) = open.get_mut(&socket) {
            entry.active = active;
        }
        change(public_id, before, Self::presence_in(&open, user))
    }

    pub fn unregister(&self, socket: u64) -> PresenceChange {
        let mut open = self.open();
        let user = open.get(&socket)?.principal.user;
        let before = Self::presence_in(&open, user);
        let entry = open.remove(&socket)?;
        change(
            entry.principal.public_id,
            before,
            Self::presence_in(&open, user),
        )
    }

    /// An account's presence from its sockets; `None` without any.
    pub fn presence(&self, user: i64) -> Option<Presence> {
        Self::presence_in(&self.open(), user)
    }

    /// Every open socket's principal, for the revocation sweep.
    pub fn principals(&self) -> Vec<(u64, Principal)> {
        self.open()
            .iter()
            .map(|(id, e)| (*id, e.principal.clone()))
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
            if entry.principal.credential == Credential::Session(session.to_owned()) {
                entry.close.cancel();
            }
        }
    }

    /// Closes every socket of an account (deactivation, password change).
    pub fn close_user(&self, user: i64) {
        for entry in self.open().values() {
            if entry.principal.user == user {
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

fn change(public_id: String, before: Option<Presence>, after: Option<Presence>) -> PresenceChange {
    let after = after.unwrap_or(Presence::Offline);
    (before.unwrap_or(Presence::Offline) != after).then_some((public_id, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(user: i64, session: &str) -> Principal {
        Principal {
            user,
            public_id: format!("agt_{user}"),
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
