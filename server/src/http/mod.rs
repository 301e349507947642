//! Plain HTTP handlers (everything that is not a Leptos page or server function).
//!
//! - `api`: the REST API for programs, with bearer tokens;
//! - `auth`: who is calling (token or session), as extractors over `backend::auth`;
//! - `botpress`: the five endpoints plus/hitl-api calls;
//! - `client_addr`: the client's address, through trusted reverse proxies;
//! - `health`: liveness and readiness probes;
//! - `files`: attachments agents send, served at unguessable URLs;
//! - `last_seen`: when each signed-in person was last active;
//! - `metrics`: `/metrics` on its own address, and the per-request counts;
//! - `openapi`: `/api/openapi.json`, from the same registrations as the routes;
//! - `rate_limit`: the per-connection request rate of the Botpress endpoints;
//! - `realtime`: the `/ws` websocket (events, presence);
//! - `security`: security headers and the cross-site request check;
//! - `server_fns`: the right HTTP status for server-function errors;
//! - `state`: the router state, from which handlers take what they need;
//! - `error`: the JSON error type they share; `extract`: JSON and query input whose
//!   rejections are that type's 400.

pub mod api;
pub mod auth;
pub mod botpress;
pub mod botpress_integration;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod files;
pub mod health;
pub mod last_seen;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod realtime;
pub mod security;
pub mod server_fns;
pub mod state;
