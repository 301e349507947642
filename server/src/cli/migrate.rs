//! `baton migrate-data`: copying an installation's SQLite database into PostgreSQL.
//! The rules (one snapshot, one transaction, idempotent, verified) are in
//! `backend::db::transfer`; this checks the arguments and reports.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;

pub async fn run(config: &Config, from: Option<&str>, to: &str) -> anyhow::Result<()> {
    let from = from.unwrap_or(&config.database_url);
    anyhow::ensure!(
        to.starts_with("postgres://") || to.starts_with("postgresql://"),
        "--to must be a PostgreSQL database, e.g. postgres://baton@db.example/baton"
    );
    anyhow::ensure!(
        from.starts_with("sqlite:"),
        "--from must be the SQLite database Baton ran on, e.g. sqlite://data/baton.db"
    );
    // Opening a SQLite URL creates a missing file; here that would copy an empty
    // database over a mistyped path.
    let file = from
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    anyhow::ensure!(
        Path::new(file).is_file(),
        "the SQLite database {file} does not exist (--from, or --database-url)"
    );
    let source = backend::db::connect(from)
        .await
        .with_context(|| format!("cannot open the SQLite database {file}"))?;
    // The URL may hold a password: name the flag, not the value.
    let target = store_postgres::connect(to).await.context(
        "cannot open the PostgreSQL database given by --to (is it running, does the \
         database exist, may this user create tables in it?)",
    )?;
    let copied = backend::db::transfer::sqlite_to_postgres(&source, &target)
        .await
        .context("the copy failed; PostgreSQL is as it was before")?;
    let rows: i64 = copied.iter().map(|c| c.rows).sum();
    let removed: u64 = copied.iter().map(|c| c.removed).sum();
    for c in &copied {
        println!("{}\t{}", c.table, c.rows);
    }
    if removed > 0 {
        eprintln!("Removed {removed} rows deleted in SQLite since the last copy.");
    }
    eprintln!(
        "Copied {rows} rows in {} tables: every table holds as many rows in PostgreSQL \
         as in SQLite.",
        copied.len()
    );
    // The files too: on PostgreSQL their bytes live in the database, so that every
    // replica serves them (`backend::files`).
    let folder = config.attachments_dir.clone().unwrap_or_else(|| {
        Path::new(file)
            .parent()
            .map_or_else(|| "attachments".into(), |dir| dir.join("attachments"))
    });
    let store = store_postgres::PgStore::new(target.clone());
    let files = backend::files::import(&store, &folder)
        .await
        .with_context(|| format!("cannot copy the files of {}", folder.display()))?;
    eprintln!(
        "Copied {} files from {} into PostgreSQL.",
        files.copied,
        folder.display()
    );
    if !files.missing.is_empty() {
        eprintln!(
            "{} files the database names are not in {} (--attachments-dir names the \
             folder): they will answer 404 until copied there and this is run again.",
            files.missing.len(),
            folder.display()
        );
    }
    Ok(())
}
