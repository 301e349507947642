//! Plain HTTP handlers (everything that is not a Leptos page or server function).
//!
//! - `api`: the REST API for programs, with bearer tokens;
//! - `botpress`: the five endpoints plus/hitl-api calls;
//! - `client_addr`: the client's address, through trusted reverse proxies;
//! - `health`: liveness and readiness probes;
//! - `files`: attachments agents send, served at unguessable URLs;
//! - `last_seen`: when each signed-in person was last active;
//! - `rate_limit`: the per-connection request rate of the Botpress endpoints;
//! - `realtime`: the `/ws` websocket (events, presence);
//! - `security`: security headers and the cross-site request check;
//! - `server_fns`: the right HTTP status for server-function errors;
//! - `error`: the JSON error type they share.

pub mod api;
pub mod botpress;
pub mod client_addr;
pub mod error;
pub mod files;
pub mod health;
pub mod last_seen;
pub mod rate_limit;
pub mod realtime;
pub mod security;
pub mod server_fns;
