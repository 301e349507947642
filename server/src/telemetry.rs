//! Logging. Logs go to stderr so that CLI commands can print machine-readable results
//! (ids, URLs) on stdout.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let mut parsed = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid log level {filter:?}: {e}"))?;
    // PostgreSQL's notices ("relation _sqlx_migrations already exists, skipping" at
    // every start) are not news to whoever reads the log, unless they ask for sqlx's.
    if !filter.contains("sqlx") {
        parsed = parsed.add_directive("sqlx::postgres::notice=warn".parse()?);
    }
    let filter = parsed;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in files or log collectors.
        .with_ansi(std::io::stderr().is_terminal());
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
