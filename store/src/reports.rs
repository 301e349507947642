//! What the team leads' reports read, and the availability log they count from.

use protocol::ticket::{ClosedReason, Status};

/// What a report needs of one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    pub created_at: i64,
    pub taken_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub status: Status,
    pub closed_reason: Option<ClosedReason>,
    pub assignee_id: Option<i64>,
    pub message_count: i64,
    pub connection_id: i64,
}

/// Someone a report may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub active: bool,
}

#[async_trait::async_trait]
pub trait Reports {
    /// The tickets created in `[start, end)`, on the connection or the team's
    /// connections if one is given.
    async fn report_facts(
        &mut self,
        start: i64,
        end: i64,
        connection: Option<i64>,
        team: Option<i64>,
    ) -> crate::Result<Vec<FactRow>>;

    /// Everyone, by name in any letter case.
    async fn report_people(&mut self) -> crate::Result<Vec<PersonRow>>;

    /// Every connection as (id, name), by name in any letter case.
    async fn report_bots(&mut self) -> crate::Result<Vec<(i64, String)>>;

    /// Every team as (id, name), by name in any letter case.
    async fn report_teams(&mut self) -> crate::Result<Vec<(i64, String)>>;

    /// Which team serves which connection, as (team, connection).
    async fn report_served(&mut self) -> crate::Result<Vec<(i64, i64)>>;

    /// Opens the user's availability interval, unless one is open.
    async fn availability_start(&mut self, user: i64, now: i64) -> crate::Result<()>;

    /// Closes the user's open interval, if any, at `now` (never before it started).
    async fn availability_end(&mut self, user: i64, now: i64) -> crate::Result<()>;

    /// Closes every open interval at its user's last sign of life: they were left
    /// open by a process that stopped.
    async fn availability_close_stale(&mut self) -> crate::Result<u64>;

    /// Milliseconds of availability per user within `[start, end)`, an open interval
    /// counting up to `now`.
    async fn availability_ms(
        &mut self,
        start: i64,
        end: i64,
        now: i64,
    ) -> crate::Result<Vec<(i64, i64)>>;
}
