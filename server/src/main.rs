//! The `baton` binary: parse the configuration, set up logging, run the command.
//! Everything else lives in the library so integration tests run the real thing.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let config = baton::config::Config::parse();
    if let Err(e) = baton::telemetry::init(config.log_format, &config.log_level) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    match baton::cli::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "baton stopped with an error");
            ExitCode::FAILURE
        }
    }
}
