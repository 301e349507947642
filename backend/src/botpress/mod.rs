//! Everything about talking to Botpress's *Human in the Loop API* integration
//! (plus/hitl-api). The wire details are in `docs/botpress.md`.
//!
//! - `wire`: the request bodies of the five endpoints, with field-naming errors;
//! - `inbound`: what each endpoint does, committed before the answer;
//! - `mapping`: closeRemoteTicket → ticket (known id, end-notice heuristic);
//! - `api` and `sync`: the Botpress Runtime API, for mapping and transcripts.
//!
//! Calls *to* the bot's webhook live in `crate::outbox`.

pub mod api;
pub mod inbound;
pub mod mapping;
pub mod sync;
pub mod wire;
