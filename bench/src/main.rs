//! `baton-bench`: measures a release build of Baton on this machine and writes the
//! results into BENCHMARKS.md. `cargo xtask bench` builds everything and runs it.
//!
//! Every measure starts its own Baton process on a fresh SQLite file (or, for the
//! PostgreSQL rows, its own database in a throwaway cluster), so one measure's data
//! never slows another. The load generators live in this process; the server
//! under test is always a separate process, as in production.

mod baseline;
mod fanout;
mod footprint;
mod ingest;
mod outbox;
mod postgres;
mod process;
mod report;
mod seed;
mod ssr;
mod ssr_stress;
mod stats;
mod webhook;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(name = "baton-bench", about = "Baton's benchmark suite.")]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The Baton binary under test (a release build).
    #[arg(long, env = "BENCH_BATON", default_value = "target/release/baton")]
    pub baton: PathBuf,

    /// The built site Baton serves (its compressed assets are measured).
    #[arg(long, env = "BENCH_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// A few seconds per measure and smaller data: proves the suite works, nothing more.
    #[arg(long, env = "BENCH_QUICK")]
    pub quick: bool,

    /// Write the results into this Markdown file (between its result markers).
    #[arg(long, env = "BENCH_REPORT")]
    pub report: Option<PathBuf>,

    /// Run only this measure (footprint, ingest, outbox, fan-out, ssr, ssr-stress or
    /// postgresql), for working on one; the report is only written by a run of all of
    /// them.
    #[arg(long, env = "BENCH_ONLY", value_parser = ["footprint", "ingest", "outbox", "fan-out", "ssr", "ssr-stress", "postgresql"])]
    pub only: Option<String>,

    /// A PostgreSQL cluster's maintenance database (`postgres://…/postgres`) where the
    /// PostgreSQL measures create their databases.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,

    /// Baton's log level. `warn,sqlx=debug` logs every query, to count them.
    #[arg(long, env = "BENCH_BATON_LOG_LEVEL", default_value = "warn")]
    pub baton_log_level: String,

    /// Keep each Baton's folder (database, log) after the run, and print where.
    #[arg(long, env = "BENCH_KEEP")]
    pub keep: bool,

    /// The command line recorded in the report, so anyone can reproduce it.
    #[arg(long, env = "BENCH_COMMAND_LINE", default_value = "cargo xtask bench")]
    pub command_line: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the baseline server (started by the ingest measure; not for people).
    Baseline {
        #[arg(long, env = "BENCH_BASELINE_ADDR")]
        addr: std::net::SocketAddr,
        #[arg(long, env = "BENCH_BASELINE_DATABASE")]
        database: PathBuf,
    },
}

/// How much work each measure does.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub ingest_seconds: u64,
    pub half_rate_seconds: u64,
    pub sockets: usize,
    pub fanout_rounds: usize,
    pub tickets: i64,
    pub messages: i64,
    pub long_ticket: i64,
    /// Closed tickets spread over the past year, for the report.
    pub history: i64,
    pub page_requests: usize,
    pub replies: usize,
    pub startups: usize,
    pub stress_seconds: u64,
    pub stress_clients: usize,
}

impl Scale {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                ingest_seconds: 2,
                half_rate_seconds: 1,
                sockets: 100,
                fanout_rounds: 10,
                tickets: 500,
                messages: 20_000,
                long_ticket: 200,
                history: 2_000,
                page_requests: 10,
                replies: 10,
                startups: 2,
                stress_seconds: 3,
                stress_clients: 16,
            }
        } else {
            Self {
                ingest_seconds: 20,
                half_rate_seconds: 10,
                sockets: 1000,
                fanout_rounds: 200,
                tickets: 10_000,
                messages: 1_000_000,
                long_ticket: 2_000,
                history: 50_000,
                page_requests: 200,
                replies: 200,
                startups: 20,
                stress_seconds: 60,
                stress_clients: 64,
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    // Before any `reqwest::Client::new()`: reqwest has no TLS provider of its own.
    backend::http_client::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match config.command.clone() {
            Some(Command::Baseline { addr, database }) => baseline::serve(addr, &database).await,
            None => run(config).await,
        }
    })
}

async fn run(config: Config) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.baton.is_file(),
        "{} does not exist: build it first (`cargo xtask bench` does)",
        config.baton.display()
    );
    let scale = Scale::new(config.quick);
    let mut rows = Vec::new();
    let mut failed = 0;
    // Cheapest first. A measure that cannot finish becomes a row saying why, so one
    // broken measure never hides the others' numbers.
    let wanted = |name: &str| {
        config
            .only
            .as_deref()
            .is_none_or(|only| only.eq_ignore_ascii_case(name))
    };
    for name in [
        "Footprint",
        "Ingest",
        "Outbox",
        "Fan-out",
        "SSR",
        "SSR-stress",
        "PostgreSQL",
    ] {
        if !wanted(name) {
            continue;
        }
        let result = match name {
            "Footprint" => footprint::run(&config, &scale).await,
            "Ingest" => ingest::run(&config, &scale).await,
            "Outbox" => outbox::run(&config, &scale).await,
            "Fan-out" => fanout::run(&config, &scale).await,
            "SSR" => ssr::run(&config, &scale).await,
            "SSR-stress" => ssr_stress::run(&config, &scale).await,
            _ => postgres::run(&config, &scale).await,
        };
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => {
                failed += 1;
                rows.push(report::Row::new(
                    name,
                    format!("did not finish: {e:#}"),
                    "see the measure",
                    false,
                ));
            }
        }
    }
    if let Some(path) = config.report.as_ref().filter(|_| config.only.is_none()) {
        report::write(path, &config, &rows)?;
        eprintln!("results written to {}", path.display());
    }
    anyhow::ensure!(failed == 0, "{failed} measure(s) did not finish");
    Ok(())
}
