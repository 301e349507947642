//! The subcommands. Each one opens the same database as the server, so they also work
//! while the server runs (SQLite in WAL mode allows that).

use crate::config::{Command, Config};
use crate::startup::Application;

pub async fn run(config: Config) -> anyhow::Result<()> {
    match config.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    tracing::info!(
        listen = %app.local_addr(),
        url = %app.public_url(),
        "Baton is ready: open {}",
        app.public_url()
    );
    app.run_until_stopped(crate::shutdown::signal()).await
}
