//! Routing: each connection's settings, agents' capacities, and what the router reads
//! and marks as it assigns, hands back and tells customers their place.

use protocol::routing::{Assignment, WhenUnavailable};
use protocol::ticket::Status;

/// A connection's routing settings as stored (`hours` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub assignment: Assignment,
    pub default_capacity: i64,
    pub hours: Option<String>,
    pub when_unavailable: WhenUnavailable,
    pub unavailable_message: String,
    pub wait_limit_minutes: Option<i64>,
    pub queue_position_text: Option<String>,
}

/// One ticket and the agent it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub ticket: i64,
    pub remote_id: String,
    pub agent: i64,
    pub agent_public_id: String,
}

/// A ticket the router has not looked at yet, with its connection's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fresh {
    pub id: i64,
    pub remote_id: String,
    pub status: Status,
    pub created_at: i64,
    pub hours: Option<String>,
    pub when_unavailable: WhenUnavailable,
    pub unavailable_message: String,
    /// Whether anyone who serves the connection was ready.
    pub anyone: bool,
}

/// A waiting customer on a connection that tells them their place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub remote_id: String,
    pub told_position: Option<i64>,
    pub text: String,
    pub position: i64,
}

#[async_trait::async_trait]
pub trait Routing {
    async fn routing_get(&mut self, connection: i64) -> crate::Result<Option<Settings>>;

    async fn routing_set(&mut self, connection: i64, settings: &Settings) -> crate::Result<()>;

    /// Sets the agent's own capacity (`None`: each connection's default): their
    /// public id, `None` if there is no such account.
    async fn user_set_capacity(
        &mut self,
        id: i64,
        capacity: Option<i64>,
    ) -> crate::Result<Option<String>>;

    /// `None` if there is no such account.
    async fn user_capacity(&mut self, id: i64) -> crate::Result<Option<Option<i64>>>;

    /// The best next automatic assignment among the `ready` accounts: the oldest
    /// queued ticket on an automatic connection, to the least busy agent with room
    /// who serves it, then whoever was given one longest ago.
    async fn routing_next_pick(&mut self, ready: &[i64]) -> crate::Result<Option<Pick>>;

    /// The agent was given a ticket now.
    async fn user_routed(&mut self, id: i64, now: i64) -> crate::Result<()>;

    /// Up to `most` tickets not looked at yet, oldest first.
    async fn routing_fresh(&mut self, ready: &[i64], most: i64) -> crate::Result<Vec<Fresh>>;

    async fn ticket_screened(&mut self, id: i64) -> crate::Result<()>;

    /// Up to `most` queued tickets past their hand-back connection's wait limit, as
    /// (id, remote id, the connection's message).
    async fn routing_past_wait_limit(
        &mut self,
        now: i64,
        most: i64,
    ) -> crate::Result<Vec<(i64, String, String)>>;

    /// Every queued ticket on a connection with a queue position text, with its place.
    async fn routing_waiting(&mut self) -> crate::Result<Vec<Waiting>>;

    async fn ticket_told_position(&mut self, id: i64, position: i64) -> crate::Result<()>;
}
