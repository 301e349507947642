//! Plain HTTP handlers (everything that is not a Leptos page or server function).
//!
//! - `botpress`: the five endpoints plus/hitl-api calls;
//! - `health`: liveness and readiness probes;
//! - `error`: the JSON error type they share.

pub mod botpress;
pub mod error;
pub mod health;
