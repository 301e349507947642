//! Opening the database: SQLite (the embedded default) or PostgreSQL (for replicas),
//! by the URL's scheme. [`Database`] is the open one; everything else reaches it
//! through the persistence interface (`store`).
//!
//! SQLite is opened the way Baton needs it:
//! - WAL, so the CLI and readers keep working while the server writes;
//! - `busy_timeout`, so a second writer waits instead of failing at once;
//! - foreign keys on every connection (SQLite leaves them off by default);
//! - `BEGIN IMMEDIATE` for read-then-write transactions: a deferred transaction that
//!   upgrades from reader to writer fails with SQLITE_BUSY without waiting at all.

pub mod transfer;
pub mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::{Error, Result};

/// How long a connection waits for another writer before giving up with SQLITE_BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite migrations in `migrations/sqlite/` at the workspace root, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The default database: a file under `./data/`, created with its folder on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/baton.db";

/// An open database, of either engine.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(sqlx::PgPool),
}

impl From<SqlitePool> for Database {
    fn from(pool: SqlitePool) -> Self {
        Database::Sqlite(pool)
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

impl Database {
    /// Opens the database `url` names (a SQLite file is created if needed) and
    /// applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        if is_postgres(url) {
            let pool = store_postgres::connect(url).await.map_err(|e| match e {
                sqlx::Error::Configuration(e) => {
                    Error::Location(format!("invalid database URL: {e}"))
                }
                other => other.into(),
            })?;
            return Ok(Database::Postgres(pool));
        }
        Ok(Database::Sqlite(connect(url).await?))
    }

    /// The persistence interface on this database.
    pub fn store(&self) -> std::sync::Arc<dyn store::Store> {
        match self {
            Database::Sqlite(pool) => {
                std::sync::Arc::new(store_sqlite::SqliteStore::new(pool.clone()))
            }
            Database::Postgres(pool) => {
                std::sync::Arc::new(store_postgres::PgStore::new(pool.clone()))
            }
        }
    }

    /// Whether this is PostgreSQL, where several replicas may serve the database.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }

    /// Cheap round trip used by `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Database::Sqlite(pool) => ping(pool).await,
            Database::Postgres(pool) => {
                sqlx::query("select 1").execute(pool).await?;
                Ok(())
            }
        }
    }

    /// Closes every connection (on SQLite, checkpointing the WAL).
    pub async fn close(&self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
        }
    }
}

/// Opens (creating if needed) the SQLite database at `url` and applies pending
/// migrations.
pub async fn connect(url: &str) -> Result<SqlitePool> {
    // sqlx would read any other string as a file name, so a typo like `postgres://…`
    // would quietly create a stray file instead of failing.
    if is_postgres(url) {
        return Err(Error::Location(
            "this needs a SQLite database (sqlite://…), not PostgreSQL".into(),
        ));
    }
    if !url.starts_with("sqlite:") {
        return Err(Error::Location(format!(
            "invalid database URL {url:?}: use SQLite (sqlite://data/baton.db) or \
             PostgreSQL (postgres://user@host/baton)"
        )));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::Location(format!("invalid database URL {url:?}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL fsyncs the WAL on every commit, so a 2xx we return survives power loss.
        // NORMAL would be faster but may drop the last commits on an OS crash.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        // SQLite's automatic checkpoint runs inside the commit that crosses the
        // threshold, and every write goes through one writer (`writer`): each
        // checkpoint would stall all of them. [`checkpoints`] does it beside them.
        .pragma("wal_autocheckpoint", "0");
    create_parent_dir(options.get_filename()).await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

async fn create_parent_dir(file: &Path) -> Result<()> {
    // `:memory:` and bare file names have no folder to create.
    let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| Error::Location(format!("cannot create {}: {e}", dir.display())))
}

/// Starts a write transaction that takes SQLite's write lock up front.
pub async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// How often [`checkpoints`] copies the WAL back into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the WAL from a connection of its own until `cancel` fires. PASSIVE:
/// it copies what it can without waiting for, or blocking, readers and the writer,
/// so the WAL stays small without a commit ever paying for it. (Without this task,
/// as in CLI commands, the WAL is checkpointed when the last connection closes.)
pub async fn checkpoints(pool: SqlitePool, cancel: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
    }
}

/// Writes a consistent copy of the live database to `file` (which must not exist).
///
/// `VACUUM INTO` reads inside one transaction, so the copy is a snapshot even while
/// the server keeps writing (WAL lets both go on), and it is compacted on the way.
pub async fn backup(pool: &SqlitePool, file: &Path) -> Result<()> {
    let target = file
        .to_str()
        .ok_or_else(|| Error::invalid("the backup path must be valid UTF-8"))?;
    // Not a checked query: `backend` holds none (the engines' crates do), and this
    // statement has no columns to check.
    sqlx::query("vacuum into ?")
        .bind(target)
        .execute(pool)
        .await?;
    Ok(())
}

/// Cheap round trip used by `/readyz`.
pub async fn ping(pool: &SqlitePool) -> Result<()> {
    sqlx::query("select 1").execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_db() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}",
            dir.path().join("nested/dir/baton.db").display()
        );
        let pool = connect(&url).await.unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn creates_folder_and_file_with_wal_and_foreign_keys() {
        let (dir, pool) = temp_db().await;
        assert!(dir.path().join("nested/dir/baton.db").is_file());
        let mode: String = sqlx::query_scalar("pragma journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("pragma foreign_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let timeout: i64 = sqlx::query_scalar("pragma busy_timeout")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(timeout, 5000);
    }

    #[tokio::test]
    async fn reopening_applies_no_migration_twice() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let first = connect(&url).await.unwrap();
        first.close().await;
        let second = connect(&url).await.unwrap();
        let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
            .fetch_one(&second)
            .await
            .unwrap();
        assert_eq!(applied, MIGRATOR.iter().count() as i64);
    }

    #[tokio::test]
    async fn begin_write_holds_the_write_lock_from_the_start() {
        let (_dir, pool) = temp_db().await;
        let tx = begin_write(&pool).await.unwrap();
        // A second immediate transaction on another connection must wait for the
        // lock; with the first still open it times out as Busy, not as a generic error.
        let mut other = pool.acquire().await.unwrap();
        sqlx::query("pragma busy_timeout = 50")
            .execute(&mut *other)
            .await
            .unwrap();
        let err = sqlx::query("begin immediate")
            .execute(&mut *other)
            .await
            .unwrap_err();
        assert!(matches!(Error::from(err), Error::Busy));
        tx.rollback().await.unwrap();
        sqlx::query("begin immediate")
            .execute(&mut *other)
            .await
            .unwrap();
        sqlx::query("rollback").execute(&mut *other).await.unwrap();
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_beside_commits_not_inside_them() {
        let (dir, pool) = temp_db().await;
        let file = dir.path().join("nested/dir/baton.db");
        let size = || std::fs::metadata(&file).unwrap().len();
        sqlx::query("create table t (x text not null)")
            .execute(&pool)
            .await
            .unwrap();
        // Far past SQLite's default threshold of 1,000 WAL pages, one commit each.
        for _ in 0..1500 {
            sqlx::query("insert into t (x) values (hex(randomblob(200)))")
                .execute(&pool)
                .await
                .unwrap();
        }
        let before = size();
        assert!(
            before < 100_000,
            "a commit checkpointed: the file grew to {before} bytes"
        );
        let cancel = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(checkpoints(pool.clone(), cancel.clone()));
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        cancel.cancel();
        task.await.unwrap();
        // The rows (about 600 KB) are now in the database file itself.
        assert!(size() > before + 500_000, "{before} -> {}", size());
    }

    #[tokio::test]
    async fn invalid_urls_are_clear_errors() {
        let err = Database::open("mysql://nope").await.unwrap_err();
        assert!(err.to_string().contains("invalid database URL"), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
        // What only SQLite can do (`baton backup`, `migrate-data --from`).
        let err = connect("postgres://nope").await.unwrap_err();
        assert!(err.to_string().contains("not PostgreSQL"), "{err}");
    }
}
