//! Everything about talking to Botpress: its *Human in the Loop API* integration
//! (plus/hitl-api), and Baton's own integration (HITL 2.1). The wire details are in
//! `docs/botpress.md`.
//!
//! - `wire`: the request bodies of plus/hitl-api's five endpoints, with field-naming
//!   errors;
//! - `inbound`: what each endpoint does, committed before the answer;
//! - `mapping`: closeRemoteTicket → ticket (known id, end-notice heuristic);
//! - `api` and `sync`: the Botpress Runtime API, for mapping and transcripts;
//! - `integration`: the routes of Baton's own integration, and what each does.
//!
//! Calls *to* the bot's webhook live in `crate::outbox`.

pub mod api;
pub mod inbound;
pub mod integration;
pub mod mapping;
pub mod sync;
pub mod wire;
