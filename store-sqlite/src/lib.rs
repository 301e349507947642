//! [`store`]'s interface on SQLite. Opening the database, its migrations and the
//! group-commit writer are in `backend::db` (they predate this crate); this wraps the
//! pool it opens.

mod accounts;
mod activity;
mod audit;
mod canned;
mod connections;
mod customers;
mod health;
mod inbound;
mod labels;
mod leases;
mod links;
mod media;
mod notes;
mod outbox;
mod reports;
mod routing;
mod search;
mod sessions;
mod settings;
mod sync;
mod teams;
mod tickets;
mod views;

use std::ops::DerefMut;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

/// SQLite has no arrays: ids travel as one JSON list, read with `json_each(?)`.
pub(crate) fn json_list<T: serde::Serialize>(ids: &[T]) -> store::Result<String> {
    serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A SQLite database as a [`store::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// One transaction; every area's statements are implemented on it. It owns its
/// transaction, or (through [`on`]) borrows a connection whose transaction someone
/// else runs: the group-commit writer's, or code of `backend` that still runs its own
/// SQLite queries and calls into ported areas inside its transaction.
pub struct SqliteTx<C = Transaction<'static, Sqlite>> {
    tx: C,
}

/// What a [`SqliteTx`] runs its statements on.
pub trait Conn: DerefMut<Target = SqliteConnection> + Send {}

impl<C: DerefMut<Target = SqliteConnection> + Send> Conn for C {}

/// Every area's statements on a connection inside a transaction its caller runs.
pub fn on(conn: &mut SqliteConnection) -> SqliteTx<&mut SqliteConnection> {
    SqliteTx { tx: conn }
}

#[async_trait::async_trait]
impl store::Store for SqliteStore {
    async fn write(&self) -> store::Result<Box<dyn store::Session>> {
        // IMMEDIATE: a deferred transaction that upgrades from reader to writer fails
        // with SQLITE_BUSY at once instead of waiting for the lock.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn read(&self) -> store::Result<Box<dyn store::Session>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn autocommit(&self) -> store::Result<Box<dyn store::Session>> {
        let tx = self.pool.acquire().await?;
        Ok(Box::new(SqliteTx { tx }))
    }
}

#[async_trait::async_trait]
impl store::Session for SqliteTx {
    async fn commit(self: Box<Self>) -> store::Result<()> {
        self.tx.commit().await
    }
}

#[async_trait::async_trait]
impl store::Session for SqliteTx<PoolConnection<Sqlite>> {
    /// Each statement committed as it ran.
    async fn commit(self: Box<Self>) -> store::Result<()> {
        Ok(())
    }
}
