//! People: what an account may do, and whether someone is there.

use crate::named_enum;

named_enum! {
    /// What an account may do. Agents work tickets; admins also manage accounts and
    /// connections and may act on any ticket.
    pub enum Role as "role" {
        Admin = "admin",
        Agent = "agent",
    }
}

named_enum! {
    /// Whether someone is there: a socket whose tab is in use (online), only idle
    /// sockets or a choice of *Away* (away), or none (offline).
    pub enum Presence as "presence" {
        Online = "online",
        Away = "away",
        Offline = "offline",
    }
}

named_enum! {
    /// What an agent chose to be while signed in: available for work, or away (a
    /// break, a meeting). It survives reloads and sign-outs; with no tab open, anyone
    /// is offline whatever they chose.
    pub enum Availability as "availability" {
        Available = "available",
        Away = "away",
    }
}
