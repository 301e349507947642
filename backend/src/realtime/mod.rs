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
//! On PostgreSQL the hub is *shared* (`shared`): several replicas serve one
//! database, so events are numbered by the database's events table instead, written
//! in the transaction of the change. Every replica reads that table in order and
//! [`Hub::deliver`]s what it finds to its ring and sockets; the epoch is the
//! installation's, so a client that reconnects to another replica resumes where it
//! was.
//!
//! - `presence`: which accounts have sockets open, and whether they are active;
//! - `here`: who has which ticket open, and who is typing there (relayed as it
//!   changes, not numbered or replayed: it is the present, not history);
//!   `here_shared` tells the other replicas;
//! - `revocation`: closes the sockets of accounts that lost their access.

pub mod fleet;
pub mod here;
pub mod here_shared;
pub mod presence;
pub mod revocation;
pub mod shared;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use protocol::realtime::Event as Numbered;
pub use protocol::realtime::{Change, Since};
use tokio::sync::{broadcast, mpsc, watch};

use crate::Result;

/// How many past events a reconnecting socket can catch up on.
pub const REPLAY_EVENTS: usize = 10_000;
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
    /// Every event numbered above this is in the ring (numbers may skip: the
    /// events table's do, where a transaction rolled back).
    floor: u64,
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
    /// Set when the events table numbers events (see the module's notes).
    shared: Option<Shared>,
}

/// A shared hub's way to the events table, and how far it has read it.
struct Shared {
    /// Changes applied without a transaction to write them in; `shared::append`
    /// writes them, in order.
    appends: mpsc::UnboundedSender<(Change, Audience)>,
    /// Their receiving end, until `shared::append` takes it.
    to_append: Mutex<Option<mpsc::UnboundedReceiver<(Change, Audience)>>>,
    /// The highest number delivered.
    delivered: watch::Sender<u64>,
    /// This replica's sockets as the others see them.
    fleet: fleet::Fleet,
    /// Tickets whose people here changed, for `here_shared::run` to tell the others.
    here_out: mpsc::UnboundedSender<String>,
    /// Its receiving end, until `here_shared::run` takes it.
    here_to_send: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    /// Who the other replicas have on which ticket.
    elsewhere: here::Elsewhere,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("epoch", &self.epoch).finish()
    }
}

impl Hub {
    /// A hub of this process only, numbering events itself.
    pub fn new() -> Result<Self> {
        Ok(Self::with(crate::ids::new_id("")?[..12].to_owned(), None))
    }

    /// A hub whose events the events table numbers, for every replica alike;
    /// `epoch` is the installation's.
    pub fn shared(epoch: &str) -> Self {
        let (appends, to_append) = mpsc::unbounded_channel();
        let (delivered, _) = watch::channel(0);
        let (here_out, here_to_send) = mpsc::unbounded_channel();
        Self::with(
            epoch.to_owned(),
            Some(Shared {
                appends,
                to_append: Mutex::new(Some(to_append)),
                delivered,
                fleet: fleet::Fleet::default(),
                here_out,
                here_to_send: Mutex::new(Some(here_to_send)),
                elsewhere: here::Elsewhere::default(),
            }),
        )
    }

    /// The changes to append that no transaction carried, for [`shared::append`]
    /// (once; `None` after, and for a hub of one process).
    pub fn take_appends(&self) -> Option<mpsc::UnboundedReceiver<(Change, Audience)>> {
        self.inner
            .shared
            .as_ref()?
            .to_append
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn with(epoch: String, shared: Option<Shared>) -> Self {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (here, _) = broadcast::channel(LIVE_BUFFER);
        Self {
            inner: Arc::new(Inner {
                epoch,
                log: Mutex::new(Log {
                    next_seq: 1,
                    ring: VecDeque::with_capacity(1024),
                    floor: 0,
                }),
                live,
                presence: presence::Sockets::default(),
                seats: here::Seats::default(),
                here,
                shared,
            }),
        }
    }

    /// Whether the events table numbers this hub's events.
    pub fn is_shared(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// Presence across replicas, for a shared hub.
    pub fn fleet(&self) -> Option<&fleet::Fleet> {
        self.inner.shared.as_ref().map(|s| &s.fleet)
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

    /// Numbers and sends a change. Call after the change is committed. A shared hub
    /// hands it to the events table, and sends it once read back from there.
    pub fn publish(&self, change: Change, audience: impl Into<Audience>) {
        let audience = audience.into();
        if let Some(shared) = &self.inner.shared {
            // Closed only when the appender stopped, at shutdown.
            if shared.appends.send((change, audience)).is_err() {
                tracing::warn!("realtime: an event after shutdown was not sent");
            }
            return;
        }
        let mut log = self.log();
        let seq = log.next_seq;
        log.next_seq += 1;
        self.push(&mut log, seq, change, audience);
    }

    /// Sends an event the events table numbered `seq` (a shared hub's only way in).
    /// Numbers at or below one already sent are ignored: they were sent.
    pub fn deliver(&self, seq: u64, change: Change, audience: Audience) {
        let mut log = self.log();
        if seq < log.next_seq {
            return;
        }
        log.next_seq = seq + 1;
        self.push(&mut log, seq, change, audience);
        drop(log);
        if let Some(shared) = &self.inner.shared {
            shared.delivered.send_replace(seq);
        }
    }

    /// Where a shared hub starts: the events table's newest events, oldest first.
    /// `whole` says they are all it holds; else what came before them is unknown here.
    pub fn start_from(&self, events: Vec<(u64, Change, Audience)>, whole: bool) {
        if let (false, Some((first, ..))) = (whole, events.first()) {
            self.log().floor = first.saturating_sub(1);
        }
        for (seq, change, audience) in events {
            self.deliver(seq, change, audience);
        }
    }

    /// Waits, up to `most`, until events up to `seq` are delivered: a client coming
    /// from another replica may have seen numbers this one has still to read.
    pub async fn reach(&self, seq: u64, most: std::time::Duration) {
        let Some(shared) = &self.inner.shared else {
            return;
        };
        let mut delivered = shared.delivered.subscribe();
        let _ = tokio::time::timeout(most, delivered.wait_for(|d| *d >= seq)).await;
    }

    fn push(&self, log: &mut Log, seq: u64, change: Change, audience: Audience) {
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
        if log.ring.len() == REPLAY_EVENTS
            && let Some(gone) = log.ring.pop_front()
        {
            log.floor = gone.seq;
        }
        log.ring.push_back(event.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.inner.live.send(event);
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
                if s.seq < log.floor {
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

    /// Sends who is on `ticket` now to the sockets that show it. Call when this
    /// replica's seats on it changed: a shared hub also tells the other replicas.
    pub fn announce_here(&self, ticket: &str) {
        if let Some(shared) = &self.inner.shared {
            // Closed only when the task stopped, at shutdown.
            let _ = shared.here_out.send(ticket.to_owned());
        }
        self.show_here(ticket);
    }

    /// The tickets whose people here changed, for `here_shared::run` (once; `None`
    /// after, and for a hub of one process).
    pub fn take_here(&self) -> Option<mpsc::UnboundedReceiver<String>> {
        self.inner
            .shared
            .as_ref()?
            .here_to_send
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Who the other replicas have on which ticket (a shared hub's).
    pub fn elsewhere(&self) -> Option<&here::Elsewhere> {
        self.inner.shared.as_ref().map(|s| &s.elsewhere)
    }

    /// Sends who is on `ticket`, here and on the other replicas, to the sockets here
    /// that show it.
    pub fn show_here(&self, ticket: &str) {
        let mine = self.inner.seats.people(ticket);
        let people = match self.elsewhere() {
            Some(elsewhere) => here::merge(mine.into_iter().chain(elsewhere.people(ticket))),
            None => mine,
        };
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

/// Announces what a change of this process's sockets did to `user`'s presence.
/// With replicas, the sum over all of them decides ([`fleet::sync`]; awaited, so
/// the socket's later events follow its presence, as they do alone); alone,
/// `change` is the answer.
pub async fn presence_changed(
    services: &crate::Services,
    user: i64,
    public_id: &str,
    change: presence::PresenceChange,
) {
    if services.hub.fleet().is_some() {
        if let Err(e) = fleet::sync(services, user, public_id, None).await {
            tracing::warn!(error = ?e, user, "presence: cannot share a change");
        }
        return;
    }
    if let Some((agent, presence)) = change {
        let mut effects = crate::effects::Effects::new();
        effects.publish_to_everyone(Change::Presence { agent, presence });
        services.apply(effects);
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

    #[test]
    fn a_shared_hub_sends_the_tables_numbers_once_and_resumes_across_gaps() {
        let hub = Hub::shared("inst");
        // The table's newest events (6 was rolled back); older ones are unknown here.
        hub.start_from(
            vec![
                (5, closed(5), Audience::Everyone),
                (7, closed(7), Audience::Everyone),
            ],
            false,
        );
        assert_eq!(hub.last_seq(), 7);
        let since = |seq| Since {
            epoch: "inst".into(),
            seq,
        };
        // A client that saw up to 6 on another replica gets 7, without a resync.
        let sub = hub.subscribe(Some(&since(6)));
        let Catchup::Events(missed) = sub.catchup else {
            panic!("expected events")
        };
        assert_eq!(missed.iter().map(|e| e.seq).collect::<Vec<_>>(), [7]);
        let Catchup::Events(missed) = hub.subscribe(Some(&since(4))).catchup else {
            panic!("expected events")
        };
        assert_eq!(missed.len(), 2);
        assert!(matches!(
            hub.subscribe(Some(&since(3))).catchup,
            Catchup::Resync
        ));
        // Read twice from the table, sent once.
        let mut live = sub.live;
        hub.deliver(7, closed(7), Audience::Everyone);
        hub.deliver(9, closed(9), Audience::These(vec![2].into()));
        let nine = live.try_recv().unwrap();
        assert_eq!(nine.seq, 9);
        assert!(nine.is_for(2) && !nine.is_for(3));
        assert!(live.try_recv().is_err());
        // Published here, it goes to the table first: no socket hears it yet.
        hub.publish(closed(10), None);
        assert!(live.try_recv().is_err());
        let mut appends = hub.take_appends().unwrap();
        assert_eq!(appends.try_recv().unwrap().0, closed(10));
    }
}
