//! The subcommands. Each one opens the same database as the server, so they also work
//! while the server runs (SQLite in WAL mode allows that). Results go to stdout, logs
//! to stderr. Each subcommand's flags are defined next to the code that runs it;
//! subcommand inputs are not settings, so they have flags but no environment
//! variables.
//!
//! - `user`, `token`, `connection`: accounts, API tokens, Botpress connections;
//! - `migrate`: copying the database into PostgreSQL.

mod connection;
mod migrate;
mod token;
mod user;

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use backend::accounts;
use clap::{Parser, Subcommand};

pub use connection::ConnectionCommand;
pub use token::TokenCommand;
pub use user::UserCommand;

use crate::config::Config;
use crate::startup::Application;

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve,
    /// Manage Botpress connections (one per bot).
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Manage agent and admin accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Copy the database, consistently, while the server keeps running. Restore by
    /// stopping Baton and putting the copy in place of the database file.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Copy every row into a PostgreSQL database, verifying each table's row count. Run
    /// it again to copy what changed since; a failure leaves PostgreSQL unchanged.
    MigrateData {
        /// The SQLite database to copy (default: the one --database-url names).
        #[arg(long)]
        from: Option<String>,
        /// The PostgreSQL database to copy into, e.g. postgres://baton@db.example/baton.
        #[arg(long)]
        to: String,
    },
}

/// The whole command line: a command and the settings (which may come before or
/// after the command's name, or from the environment).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "baton",
    version,
    about = "Baton: a self-hosted live-agent inbox for Botpress.",
    long_about = "Baton: a self-hosted live-agent inbox for Botpress.\n\n\
        Runs the web server by default (`baton serve`). Every setting below can also be \
        given as the environment variable shown next to it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Connection(command) => connection::run(&config, command).await,
        Command::User(command) => user::run(&config, command).await,
        Command::Token(command) => token::run(&config, command).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::MigrateData { from, to } => migrate::run(&config, from.as_deref(), &to).await,
    }
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    // Never overwrite: a typo must not destroy the previous good backup.
    anyhow::ensure!(
        !file.exists(),
        "{} already exists; choose a new file name",
        file.display()
    );
    let backend::db::Database::Sqlite(db) = open(config).await? else {
        anyhow::bail!(
            "`baton backup` copies a SQLite database; back up PostgreSQL with its own tools \
             (pg_dump, or the host's snapshots)"
        );
    };
    backend::db::backup(&db, file)
        .await
        .with_context(|| format!("cannot write the backup to {}", file.display()))?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "Backed up the database to {} ({bytes} bytes).",
        file.display()
    );
    println!("{}", file.display());
    Ok(())
}

pub(crate) async fn open(config: &Config) -> anyhow::Result<backend::db::Database> {
    // The URL may hold a password: a PostgreSQL one is not repeated in the message.
    let shown = if backend::db::is_postgres(&config.database_url) {
        "given by --database-url"
    } else {
        config.database_url.as_str()
    };
    backend::db::Database::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {shown}"))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    if !accounts::any_user(&*app.services().store).await? {
        let token = accounts::setup::issue(&*app.services().store).await?;
        tracing::warn!(
            "no accounts yet: open {}/setup?token={token} to create the first admin \
             (valid 24 h, once), or use `baton user create --role admin`",
            app.public_url()
        );
    }
    tracing::info!(
        listen = %app.local_addr(),
        url = %app.public_url(),
        "Baton is ready: open {}",
        app.public_url()
    );
    app.run_until_stopped(crate::shutdown::signal()).await
}

pub(crate) fn read_secret_stdin(what: &str) -> anyhow::Result<String> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    let secret = raw.trim().to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "the {what} read from standard input is empty"
    );
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let before = Cli::try_parse_from(["baton", "--addr", "127.0.0.1:9", "serve"]).unwrap();
        let after = Cli::try_parse_from(["baton", "serve", "--addr", "127.0.0.1:9"]).unwrap();
        assert_eq!(before.config.addr, after.config.addr);
        assert!(matches!(after.command, Some(Command::Serve)));
        let default = Cli::try_parse_from(["baton"]).unwrap();
        assert!(default.command.is_none());
        assert_eq!(default.config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(default.config.database_url, "sqlite://data/baton.db");
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
