//! The `baton` binary: parse the configuration, set up logging, run the command.
//! Everything else lives in the library so integration tests run the real thing.

use std::process::ExitCode;

use clap::Parser;

// Every core: the multi-threaded runtime serves everything, and pages render on their
// own single-threaded runtimes (`render.rs` explains why Leptos needs that).
#[tokio::main]
async fn main() -> ExitCode {
    let cli = baton::cli::Cli::parse();
    if let Err(e) = baton::telemetry::init(cli.config.log_format, &cli.config.log_level) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    match baton::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "baton stopped with an error");
            ExitCode::FAILURE
        }
    }
}
