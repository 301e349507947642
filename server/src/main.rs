//! The `baton` binary: parse the configuration, set up logging, run the command.
//! Everything else lives in the library so integration tests run the real thing.

use std::process::ExitCode;

use clap::Parser;

// One worker thread: Leptos 0.8's server-side rendering can deadlock when two threads
// poll the same page's resources and Suspense at once (an RwLock ordering inversion
// inside reactive_graph, leptos-rs/leptos#4673; both workers end up blocked and the
// whole server stops answering). We reproduced it rendering the inbox under load. On
// one worker every poll is serial, so the inversion cannot happen. SQLite work still
// runs on its own threads (one per pooled connection), so the second core stays busy.
#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
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
