//! [`store`]'s interface on PostgreSQL, with the PostgreSQL migrations.
//!
//! **Writes are serialised,** as SQLite serialises them: every write transaction first
//! takes one transaction-scoped advisory lock. The domain's read-then-write checks
//! ("is this ticket still queued? then it is yours") were written for a single writer,
//! and this keeps them correct across connections and replicas alike. Reads never
//! wait for it.

mod accounts;
mod activity;
mod audit;
mod canned;
mod connections;
mod customers;
mod events;
mod health;
mod inbound;
mod labels;
mod leases;
mod links;
mod media;
mod notes;
mod outbox;
mod replicas;
mod reports;
mod routing;
mod search;
mod sessions;
mod settings;
mod sync;
mod teams;
mod tickets;
mod views;

use std::str::FromStr;

use std::ops::DerefMut;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

/// The PostgreSQL migrations (`migrations/postgres`), embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Connects to the database at `url` and applies pending migrations.
pub async fn connect(url: &str) -> store::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    Ok(pool)
}

use store::parse_name as parse;

/// Any constant works; this one spells "baton" in ASCII, for whoever finds it in
/// `pg_locks`.
const WRITE_LOCK: i64 = 0x62_61_74_6f_6e;

/// A PostgreSQL database as a [`store::Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// One transaction (or, from [`store::Store::autocommit`], a connection whose
/// statements commit one by one); every area's statements are implemented on it.
pub struct PgTx<C = Transaction<'static, Postgres>> {
    tx: C,
}

/// What a [`PgTx`] runs its statements on.
pub trait Conn: DerefMut<Target = PgConnection> + Send {}

impl<C: DerefMut<Target = PgConnection> + Send> Conn for C {}

/// Begins a transaction that will write: it holds the write lock (see the crate's
/// notes) until it ends.
pub async fn begin_write(pool: &PgPool) -> store::Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    // Not a checked query: it returns `void`, which sqlx's macros cannot describe.
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The interface on a transaction the caller holds (the group commit's, which runs
/// many writes in one).
pub fn on(conn: &mut PgConnection) -> PgTx<&mut PgConnection> {
    PgTx { tx: conn }
}

#[async_trait::async_trait]
impl store::Store for PgStore {
    async fn write(&self) -> store::Result<Box<dyn store::Session>> {
        let tx = begin_write(&self.pool).await?;
        Ok(Box::new(PgTx { tx }))
    }

    async fn read(&self) -> store::Result<Box<dyn store::Session>> {
        let tx = self
            .pool
            .begin_with("begin isolation level repeatable read read only")
            .await?;
        Ok(Box::new(PgTx { tx }))
    }

    async fn autocommit(&self) -> store::Result<Box<dyn store::Session>> {
        let tx = self.pool.acquire().await?;
        Ok(Box::new(PgTx { tx }))
    }
}

#[async_trait::async_trait]
impl store::Session for PgTx {
    async fn commit(self: Box<Self>) -> store::Result<()> {
        self.tx.commit().await
    }

    fn replicas(&mut self) -> Option<&mut dyn store::replicas::Replicas> {
        Some(self)
    }

    fn blobs(&mut self) -> Option<&mut dyn store::replicas::Blobs> {
        Some(self)
    }
}

#[async_trait::async_trait]
impl store::Session for PgTx<PoolConnection<Postgres>> {
    /// Each statement committed as it ran.
    async fn commit(self: Box<Self>) -> store::Result<()> {
        Ok(())
    }

    fn blobs(&mut self) -> Option<&mut dyn store::replicas::Blobs> {
        Some(self)
    }
}
