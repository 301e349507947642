//! The Baton server as a library: the binary in `main.rs` and the integration tests
//! both build the same [`startup::Application`].
//!
//! - `config`: every setting, as flags and `BATON_*` environment variables;
//! - `cli`: the subcommands (`serve` is the default);
//! - `startup`: binds the listener and assembles the router;
//! - `serve`: the connection loop, with header timeouts and a connection cap;
//! - `render`: the threads that render pages (why they are separate is explained there);
//! - `http/`: plain HTTP handlers (the Botpress endpoints, REST, `/ws`, health);
//! - `telemetry`, `shutdown`: logging and signal handling.

pub mod cli;
pub mod config;
pub mod http;
pub mod render;
pub mod serve;
pub mod sessions;
pub mod shutdown;
pub mod startup;
pub mod telemetry;
