//! Teams: who is in them, which connections they serve, and so whose inbox shows a
//! connection's tickets.

/// One agent of one team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub team_id: i64,
    pub id: i64,
    pub public_id: String,
    pub name: String,
}

/// One connection one team serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRow {
    pub team_id: i64,
    pub id: i64,
    pub name: String,
}

#[async_trait::async_trait]
pub trait Teams {
    /// Every team as (id, name), by name in any letter case.
    async fn teams_all(&mut self) -> crate::Result<Vec<(i64, String)>>;

    /// Every team's agents, by name in any letter case.
    async fn team_members_all(&mut self) -> crate::Result<Vec<MemberRow>>;

    /// Every team's connections, by name in any letter case.
    async fn team_connections_all(&mut self) -> crate::Result<Vec<ServedRow>>;

    /// The new team's id; a name already taken (any letter case) is a unique
    /// violation.
    async fn team_insert(&mut self, name: &str, now: i64) -> crate::Result<i64>;

    /// Renames the team; `false` if there is none. A name already taken is a unique
    /// violation.
    async fn team_rename(&mut self, id: i64, name: &str) -> crate::Result<bool>;

    /// Deletes the team with its memberships.
    async fn team_delete(&mut self, id: i64) -> crate::Result<()>;

    /// Takes every agent and connection out of the team.
    async fn team_clear(&mut self, id: i64) -> crate::Result<()>;

    /// Puts the agent in the team; `false` if no account has that id (or it is
    /// there already).
    async fn team_member_add(&mut self, team: i64, user: i64) -> crate::Result<bool>;

    /// Has the team serve the connection; `false` if no connection has that id (or
    /// it serves it already).
    async fn team_connection_add(&mut self, team: i64, connection: i64) -> crate::Result<bool>;

    /// Whether any team serves the connection (if none, every agent sees it).
    async fn connection_has_teams(&mut self, connection: i64) -> crate::Result<bool>;

    /// The accounts whose inbox shows the connection's tickets (the
    /// `visible_connections` view).
    async fn connection_audience(&mut self, connection: i64) -> crate::Result<Vec<i64>>;

    /// Whether the account's inbox shows the connection's tickets.
    async fn user_sees(&mut self, user: i64, connection: i64) -> crate::Result<bool>;
}
