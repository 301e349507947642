//! [`store`]'s interface on SQLite. Opening the database, its migrations and the
//! group-commit writer are in `backend::db` (they predate this crate); this wraps the
//! pool it opens.

mod activity;
mod audit;
mod canned;
mod customers;
mod labels;
mod links;
mod notes;
mod teams;
mod tickets;

use sqlx::{Sqlite, SqlitePool, Transaction};

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

/// One transaction; every area's statements are implemented on it.
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
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
}

#[async_trait::async_trait]
impl store::Session for SqliteTx {
    async fn commit(self: Box<Self>) -> store::Result<()> {
        self.tx.commit().await
    }
}
