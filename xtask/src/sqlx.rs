//! sqlx's offline query data (`<crate>/.sqlx/`), regenerated and checked without
//! sqlx-cli (which took two minutes to build on a new machine, for two of its
//! commands). sqlx's macros, when they check a crate's queries against a live
//! database, also write each query's description into `SQLX_OFFLINE_DIR`; so a
//! `cargo check` of the crate against a migrated throwaway database yields the data,
//! and the committed folder is compared with it or replaced by it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cmd::{Result, cargo_env, command, root, run_quietly, step};

/// A new SQLite file at `path` with every migration in `migrations/sqlite` applied
/// (by the `sqlite3` shell), and its URL.
pub fn sqlite_database(path: &Path) -> Result<String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    for migration in migrations("sqlite")? {
        let file = std::fs::File::open(&migration)
            .map_err(|e| format!("cannot read {}: {e}", migration.display()))?;
        let mut c = command("sqlite3");
        c.arg("-bail").arg(path).stdin(file);
        run_quietly(&format!("apply {}", name(&migration)), c)?;
    }
    let mut c = command("sqlite3");
    c.arg("-bail").arg(path).arg(MIGRATIONS_TABLE_SQLITE);
    run_quietly("create sqlx's migrations table", c)?;
    Ok(format!("sqlite://{}", path.display()))
}

/// The table sqlx's migrator keeps, as sqlx 0.8 creates it on each engine: Baton's
/// status page reads it, so its queries are checked against it too (its rows do not
/// matter to a check, only its columns' types).
const MIGRATIONS_TABLE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);";
const MIGRATIONS_TABLE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);";

/// Applies every migration in `migrations/postgres` to the empty database at `url`,
/// each in one transaction, as Baton does.
pub fn migrate_postgres(url: &str) -> Result {
    let psql = crate::postgres::bin_dir()
        .map(|b| b.join("psql"))
        .ok_or("PostgreSQL's client (psql) is not installed")?;
    for migration in migrations("postgres")? {
        let mut c = command(&psql.to_string_lossy());
        c.arg(url)
            .args(["--quiet", "--no-psqlrc", "--single-transaction"])
            .args(["-v", "ON_ERROR_STOP=1", "-f"])
            .arg(&migration);
        run_quietly(&format!("apply {}", name(&migration)), c)?;
    }
    let mut c = command(&psql.to_string_lossy());
    c.arg(url)
        .args(["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(MIGRATIONS_TABLE_POSTGRES);
    run_quietly("create sqlx's migrations table", c)
}

/// The query data of `krate` checked against the database at `url`, in a fresh
/// folder under `target/sqlx/`.
pub fn query_data(krate: &str, url: &str) -> Result<PathBuf> {
    let out = root().join("target/sqlx").join(krate);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    // The macros run only when the crate is compiled, so its source is made newer
    // than its last check; and put back afterwards, so the next build or test of
    // the crate (and of everything above it) does not recompile for nothing.
    let lib = root().join(krate).join("src/lib.rs");
    let was = std::fs::metadata(&lib)
        .and_then(|m| m.modified())
        .map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    set_modified(&lib, SystemTime::now())?;
    let mut c = cargo_env();
    c.args(["check", "--quiet", "-p", krate, "--all-targets"])
        .env("SQLX_OFFLINE", "false")
        .env("SQLX_OFFLINE_DIR", &out)
        .env("SQLX_TMP", root().join("target/sqlx/tmp"))
        .env("DATABASE_URL", url);
    let checked = step(
        &format!("check {krate}'s queries against a migrated database"),
        c,
    );
    set_modified(&lib, was)?;
    checked?;
    Ok(out)
}

/// Fails unless `committed` holds exactly the query files of `fresh`, byte for byte.
pub fn compare(fresh: &Path, committed: &Path) -> Result {
    let (new, old) = (query_files(fresh)?, query_files(committed)?);
    let mut problems = Vec::new();
    for file in &new {
        if !old.contains(file) {
            problems.push(format!("missing: {file} (a new or changed query)"));
        } else if std::fs::read(fresh.join(file)).ok() != std::fs::read(committed.join(file)).ok() {
            problems.push(format!(
                "out of date: {file} (the schema or a query's types changed)"
            ));
        }
    }
    for file in old.iter().filter(|f| !new.contains(f)) {
        problems.push(format!("no longer used: {file}"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} does not match the queries:\n    {}",
        committed.display(),
        problems.join("\n    ")
    ))
}

/// Replaces the query files in `committed` with those of `fresh`.
pub fn replace(fresh: &Path, committed: &Path) -> Result {
    std::fs::create_dir_all(committed)
        .map_err(|e| format!("cannot create {}: {e}", committed.display()))?;
    for file in query_files(committed)? {
        std::fs::remove_file(committed.join(&file))
            .map_err(|e| format!("cannot remove {file}: {e}"))?;
    }
    for file in query_files(fresh)? {
        std::fs::copy(fresh.join(&file), committed.join(&file))
            .map_err(|e| format!("cannot write {file}: {e}"))?;
    }
    Ok(())
}

/// The `query-*.json` files in `dir`, sorted (none if it does not exist).
fn query_files(dir: &Path) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("query-") && n.ends_with(".json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The `.sql` files of `migrations/<engine>`, in the order they apply.
fn migrations(engine: &str) -> Result<Vec<PathBuf>> {
    let dir = root().join("migrations").join(engine);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn set_modified(path: &Path, when: SystemTime) -> Result {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
        .map_err(|e| format!("cannot set the time of {}: {e}", path.display()))
}
