//! Baton's own Botpress integration (`botpress-integration/`, HITL interface 2.1).
//!
//! It calls the same endpoint URL as plus/hitl-api, on routes of its own (`wire`):
//! it registers (bringing its webhook URL, taking the signing key), creates users,
//! starts handoffs with the whole conversation before them, relays the `hitl`
//! channel's messages with their Botpress ids, and stops handoffs naming the ticket.
//! What each does is in `inbound`. Calls back to it go through the same outbox as
//! plus/hitl-api's, signed (`crate::outbox::signing`).

pub mod inbound;
pub mod wire;
