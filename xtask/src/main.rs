//! Baton's project commands, run through the cargo alias in `.cargo/config.toml`:
//!
//! - `cargo xtask setup`: install every tool the build and the tests need (idempotent);
//! - `cargo xtask run [-- BATON ARGS]`: set up, build the release site, start Baton;
//! - `cargo xtask test [STEP…]`: set up, then run every check and test (or only the
//!   named steps), stopping at the first failure;
//! - `cargo xtask bench [--quick]`: build in release mode and run the benchmarks;
//! - `cargo xtask audit`: security advisories (needs the RustSec database online);
//! - `cargo xtask prepare`: regenerate the committed sqlx offline query data of every
//!   crate with checked queries, each against its own engine.
//!
//! Only the standard library is used, so this compiles before anything else.

mod audit;
mod bench;
mod cmd;
mod integration;
mod postgres;
mod run;
mod setup;
mod site;
mod sqlx;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup              install the tools the build and tests need (idempotent)
  run [-- ARGS]      build the release site and start Baton; ARGS go to `baton serve`
  test [STEP...]     run every check and test; steps: fmt deny fresh clippy unit sqlx
                     build e2e bench
  bench [--quick]    build in release mode and measure; a full run writes BENCHMARKS.md
  audit              check dependencies against the RustSec advisories (online)
  prepare            regenerate the sqlx offline query data (the .sqlx folders)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(setup::Needs::Test),
        Some("run") => run::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("audit") => audit::run(),
        Some("prepare") => test::prepare(),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}
