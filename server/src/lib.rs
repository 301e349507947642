//! The Baton server as a library: the binary in `main.rs` and the integration tests
//! both build the same [`startup::Application`].
//!
//! - `config`: every setting, as flags and `BATON_*` environment variables;
//! - `cli`: the subcommands (`serve` is the default);
//! - `startup`: binds the listener and assembles the router;
//! - `http/`: plain HTTP handlers (health; later the Botpress endpoints and `/ws`);
//! - `telemetry`, `shutdown`: logging and signal handling.

pub mod cli;
pub mod config;
pub mod http;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
