//! The open websockets, by account: the source of presence, and the handles that
//! revocation uses to close a socket.
//!
//! An account with a socket whose tab is in use is online; with sockets that are all
//! idle (hidden tab, no input for a while) it is away; with none it is offline.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use protocol::account::Presence;

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
}

/// What a presence change should announce: (public id, new presence).
pub type PresenceChange = Option<(String, Presence)>;

impl Sockets {
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let before = Self::presence_of(&open, caller.user.id);
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
        let after = Self::presence_of(&open, user);
        (id, close, change(public_id, before, after))
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
        let before = Self::presence_of(&open, user);
        if let Some(entry) = open.get_mut(&socket) {
            entry.active = active;
        }
        change(public_id, before, Self::presence_of(&open, user))
    }

    pub fn unregister(&self, socket: u64) -> PresenceChange {
        let mut open = self.open();
        let user = open.get(&socket)?.caller.user.id;
        let before = Self::presence_of(&open, user);
        let entry = open.remove(&socket)?;
        change(
            entry.caller.user.public_id,
            before,
            Self::presence_of(&open, user),
        )
    }

    /// An account's presence from its sockets; `None` without any.
    pub fn presence(&self, user: i64) -> Option<Presence> {
        Self::presence_of(&self.open(), user)
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
