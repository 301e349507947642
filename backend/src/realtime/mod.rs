//! The realtime hub: every change agents must see, numbered, fanned out to the open
//! websockets, and kept for a while so a socket that reconnects gets what it missed.
//!
//! Events are published after the transaction that made the change commits, so a
//! client that refetches on an event always finds the change. Each event gets the
//! next sequence number under one lock, together with being appended to the replay
//! ring and sent to live subscribers; a subscriber that joins under the same lock
//! therefore sees every event exactly once: from the ring up to its join, live after.
//!
//! Sequence numbers restart with the process, so they are qualified by a random
//! `epoch`: a client that saw another epoch, or fell behind the ring, is told to
//! resync (refetch what it shows) instead of being sent a partial history.
//!
//! - `presence`: which accounts have sockets open, and whether they are active;
//! - `here`: who has which ticket open, and who is typing there (relayed as it
//!   changes, not numbered or replayed: it is the present, not history);
//! - `revocation`: closes the sockets of accounts that lost their access.

pub mod here;
pub mod presence;
pub mod revocation;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use protocol::realtime::Event as Numbered;
pub use protocol::realtime::{Change, Since};
use tokio::sync::broadcast;

use crate::Result;

/// How many past events a reconnecting socket can catch up on.
const REPLAY_EVENTS: usize = 10_000;
/// How far a live subscriber may fall behind before it is told to resync.
const LIVE_BUFFER: usize = 1_024;

/// Whose sockets an event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// One account: its own read state, an assignment made for it.
    One(i64),
    /// The accounts whose inbox shows a connection that teams serve (a new ticket
    /// there alerts only them).
    These(Arc<[i64]>),
}

impl From<Option<i64>> for Audience {
    fn from(only_for: Option<i64>) -> Self {
        only_for.map_or(Audience::Everyone, Audience::One)
    }
}

/// A numbered change, and whose sockets it goes to.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub change: Change,
    pub audience: Audience,
    /// The event as its websocket frame, serialised once when published rather than
    /// once per socket (a busy hub sends each event to every agent).
    frame: String,
}

impl Event {
    pub fn is_for(&self, user: i64) -> bool {
        match &self.audience {
            Audience::Everyone => true,
            Audience::One(u) => *u == user,
            Audience::These(users) => users.contains(&user),
        }
    }

    /// The JSON text sent to clients.
    pub fn frame(&self) -> &str {
        &self.frame
    }
}

/// Who is on a ticket, as the frame the sockets viewing it are sent.
#[derive(Debug)]
pub struct HereFrame {
    pub ticket: String,
    pub frame: String,
}

/// What a new subscriber starts with.
pub enum Catchup {
    /// The events after the client's `since` (possibly none).
    Events(Vec<Arc<Event>>),
    /// The client's `since` is from another run or older than the ring.
    Resync,
}

pub struct Subscription {
    pub catchup: Catchup,
    pub live: broadcast::Receiver<Arc<Event>>,
    pub last_seq: u64,
}

struct Log {
    next_seq: u64,
    ring: VecDeque<Arc<Event>>,
}

/// Cheap to clone; one per process.
#[derive(Clone, Debug)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    epoch: String,
    log: Mutex<Log>,
    live: broadcast::Sender<Arc<Event>>,
    presence: presence::Sockets,
    seats: here::Seats,
    here: broadcast::Sender<Arc<HereFrame>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("epoch", &self.epoch).finish()
    }
}

impl Hub {
    pub fn new() -> Result<Self> {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (here, _) = broadcast::channel(LIVE_BUFFER);
        Ok(Self {
            inner: Arc::new(Inner {
                epoch: crate::ids::new_id("")?[..12].to_owned(),
                log: Mutex::new(Log {
                    next_seq: 1,
                    ring: VecDeque::with_capacity(1024),
                }),
                live,
                presence: presence::Sockets::default(),
                seats: here::Seats::default(),
                here,
            }),
        })
    }

    pub fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock leaves the log consistent (each step is a
        // plain push or send), so a poisoned lock is still safe to use.
        self.inner
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Numbers and sends a change. Call after the change is committed.
    pub fn publish(&self, change: Change, audience: impl Into<Audience>) -> u64 {
        let audience = audience.into();
        let mut log = self.log();
        let seq = log.next_seq;
        log.next_seq += 1;
        // A numbered event is written exactly as `ServerFrame::Event` (its variant is
        // untagged; protocol's tests pin the shape). Serialising a plain enum of
        // strings and numbers cannot fail.
        let numbered = Numbered { seq, change };
        let frame = serde_json::to_string(&numbered).unwrap_or_default();
        let Numbered { change, .. } = numbered;
        let event = Arc::new(Event {
            seq,
            change,
            audience,
            frame,
        });
        if log.ring.len() == REPLAY_EVENTS {
            log.ring.pop_front();
        }
        log.ring.push_back(event.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.inner.live.send(event);
        seq
    }

    /// Joins the live stream and returns what the client missed since `since`, and
    /// the last sequence number given out before joining.
    pub fn subscribe(&self, since: Option<&Since>) -> Subscription {
        let log = self.log();
        let live = self.inner.live.subscribe();
        let catchup = match since {
            None => Catchup::Events(Vec::new()),
            Some(s) if s.epoch != self.inner.epoch || s.seq >= log.next_seq => Catchup::Resync,
            Some(s) => {
                let oldest = log.ring.front().map_or(log.next_seq, |e| e.seq);
                if s.seq + 1 < oldest {
                    Catchup::Resync
                } else {
                    Catchup::Events(log.ring.iter().filter(|e| e.seq > s.seq).cloned().collect())
                }
            }
        };
        Subscription {
            catchup,
            live,
            last_seq: log.next_seq - 1,
        }
    }

    /// The last sequence number given out (0 before the first event).
    pub fn last_seq(&self) -> u64 {
        self.log().next_seq - 1
    }

    pub fn sockets(&self) -> &presence::Sockets {
        &self.inner.presence
    }

    pub fn seats(&self) -> &here::Seats {
        &self.inner.seats
    }

    /// Sends who is on `ticket` now to the sockets that show it.
    pub fn announce_here(&self, ticket: &str) {
        let people = self.inner.seats.people(ticket);
        let frame = protocol::realtime::ServerFrame::Here {
            ticket: ticket.to_owned(),
            people,
        };
        // A frame of strings and booleans always serialises.
        let frame = serde_json::to_string(&frame).unwrap_or_default();
        let _ = self.inner.here.send(Arc::new(HereFrame {
            ticket: ticket.to_owned(),
            frame,
        }));
    }

    /// Joins the "who is here" stream (sockets keep the frames of their ticket).
    pub fn subscribe_here(&self) -> broadcast::Receiver<Arc<HereFrame>> {
        self.inner.here.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(n: u32) -> Change {
        Change::Closed {
            ticket: format!("tkt_{n}"),
        }
    }

    #[test]
    fn a_reconnecting_subscriber_gets_exactly_what_it_missed() {
        let hub = Hub::new().unwrap();
        for n in 0..5 {
            hub.publish(closed(n), None);
        }
        let since = Since {
            epoch: hub.epoch().to_owned(),
            seq: 3,
        };
        let sub = hub.subscribe(Some(&since));
        let mut live = sub.live;
        assert_eq!(sub.last_seq, 5);
        let Catchup::Events(missed) = sub.catchup else {
            panic!("expected events")
        };
        assert_eq!(missed.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        hub.publish(closed(9), None);
        assert_eq!(live.try_recv().unwrap().seq, 6);
    }

    #[test]
    fn another_epoch_or_a_future_seq_means_resync() {
        let hub = Hub::new().unwrap();
        hub.publish(closed(1), None);
        let other = Since {
            epoch: "elsewhere".into(),
            seq: 1,
        };
        assert!(matches!(
            hub.subscribe(Some(&other)).catchup,
            Catchup::Resync
        ));
        let future = Since {
            epoch: hub.epoch().to_owned(),
            seq: 7,
        };
        assert!(matches!(
            hub.subscribe(Some(&future)).catchup,
            Catchup::Resync
        ));
    }

    #[test]
    fn falling_behind_the_ring_means_resync() {
        let hub = Hub::new().unwrap();
        for n in 0..(REPLAY_EVENTS as u32 + 10) {
            hub.publish(closed(n), None);
        }
        let old = Since {
            epoch: hub.epoch().to_owned(),
            seq: 5,
        };
        assert!(matches!(hub.subscribe(Some(&old)).catchup, Catchup::Resync));
        let recent = Since {
            epoch: hub.epoch().to_owned(),
            seq: hub.last_seq() - 2,
        };
        let Catchup::Events(missed) = hub.subscribe(Some(&recent)).catchup else {
            panic!("expected events")
        };
        assert_eq!(missed.len(), 2);
    }

    #[test]
    fn events_serialise_flat_with_their_sequence_number() {
        let hub = Hub::new().unwrap();
        hub.publish(closed(1), None);
        let mut live = hub.subscribe(None).live;
        hub.publish(
            Change::Assigned {
                ticket: "tkt_1".into(),
                agent: None,
            },
            Some(3),
        );
        let event = live.try_recv().unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(event.frame()).unwrap(),
            serde_json::json!({"seq": 2, "type": "assigned", "ticket": "tkt_1", "agent": null})
        );
        assert!(event.is_for(3) && !event.is_for(4));
    }
}
