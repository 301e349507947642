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
    /// sockets (away), or none (offline).
    pub enum Presence as "presence" {
        Online = "online",
        Away = "away",
        Offline = "offline",
    }
}
