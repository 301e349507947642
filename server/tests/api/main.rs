//! Baton's HTTP-level tests: one binary (one link step), one `spawn_app()` helper.
//! Every test runs the real server on a random port with its own SQLite file, and a
//! fake Botpress on another random port.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod admin;
mod attachments;
mod authz;
mod botpress_inbound;
mod botpress_integration;
mod botpress_outbound;
mod botpress_sequences;
mod botpress_sync;
mod canned;
mod cli;
mod crash;
mod customers;
mod engines;
mod export;
mod faults;
mod fuzz;
mod health;
mod labels;
mod limits;
mod media;
mod metrics;
mod migrate_data;
mod notes;
mod openapi;
mod page_queries;
mod pages;
mod process;
mod realtime;
mod render_stress;
mod replicas;
mod reports;
mod rest;
mod rest_tickets;
mod routing;
mod search;
mod secrets;
mod security;
mod server_fns;
mod sessions;
mod ticket_rules;
