//! The events table: the realtime hub's numbered changes, shared by every replica on
//! one PostgreSQL database.
//!
//! A change's events are written in the transaction that makes the change, so no
//! committed change goes unannounced, and a wake-up (`NOTIFY`) goes out as that
//! transaction commits. Each replica reads the table in order and relays what it
//! finds to its own sockets; the wake-up only says "look now". SQLite has no such
//! table: one process holds every socket, and its hub numbers changes in memory.

/// An event to append: the change as its JSON text, and whose sockets it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub change: String,
    /// `None`: everyone.
    pub audience: Option<Vec<i64>>,
}

/// An event as stored, with the number the table gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub change: String,
    pub audience: Option<Vec<i64>>,
}

/// The channel the wake-up is sent on.
pub const CHANNEL: &str = "baton_events";

/// The channel replicas tell each other who is on which ticket on (see
/// `backend::realtime::here_shared`). Nothing about it is stored: it is the present.
pub const HERE_CHANNEL: &str = "baton_here";

/// The most a notice may carry: PostgreSQL refuses a `NOTIFY` payload of 8000 bytes
/// or more.
pub const NOTICE_MAX_BYTES: usize = 7_999;

#[async_trait::async_trait]
pub trait Events: Send {
    /// Appends `events` in order and wakes every listener when the transaction
    /// commits. Run inside a write transaction: writes are serialised, so the numbers
    /// become visible in the order they were given, and a reader that has seen
    /// number `n` has seen every event before it. The last number given (0 for
    /// none).
    async fn events_append(&mut self, events: &[NewEvent]) -> crate::Result<i64>;

    /// Up to `most` events after `after`, oldest first.
    async fn events_after(&mut self, after: i64, most: i64) -> crate::Result<Vec<EventRow>>;

    /// The newest `most` events, oldest first (a replica's replay ring at start).
    async fn events_latest(&mut self, most: i64) -> crate::Result<Vec<EventRow>>;

    /// Deletes all but the newest `keep` events; how many went.
    async fn events_prune(&mut self, keep: i64) -> crate::Result<u64>;

    /// Sends each of `notices` on [`HERE_CHANNEL`] when the transaction commits
    /// (a read-only one will do). Each must be under [`NOTICE_MAX_BYTES`].
    async fn here_tell(&mut self, notices: &[String]) -> crate::Result<()>;
}
