//! Group commit: the Botpress endpoints' writes, batched into shared transactions.
//!
//! Every commit fsyncs the WAL (`synchronous = FULL`, so a 2xx survives power loss),
//! and the fsync, not the statements, is most of a write's cost. One task takes
//! whatever writes are waiting, runs each inside its own savepoint of a single
//! `BEGIN IMMEDIATE` transaction, commits once, and only then answers each caller.
//! Under load, dozens of requests share one fsync; alone, a write is committed as
//! soon as it arrives (the writer never waits to fill a batch).
//!
//! A write that fails is rolled back to its savepoint and fails alone; the rest of
//! the batch still commits. If the commit itself fails, every write in the batch
//! fails, and none of them is stored.
//!
//! The writer is also the single writer for these endpoints: they queue in the
//! channel instead of polling SQLite's lock in `busy_timeout` sleeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{Error, Result};

/// The most writes one transaction takes; more wait for the next one. Bounds how long
/// the write lock is held at a time (agents' own writes wait behind it).
const MAX_BATCH: usize = 128;

/// Writes waiting beyond this make callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;

type Queue = mpsc::Sender<Box<dyn Job>>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A handle to the writer task, started on first use. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    /// SQLite's, for the batches; `None` when every write is its own transaction.
    pool: Option<SqlitePool>,
    queue: Arc<Mutex<Option<Queue>>>,
    commits: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::Metrics>,
    /// Set on an engine whose writes run side by side (PostgreSQL): each write is a
    /// transaction of its own there, and the batching above is not used.
    each: Option<Arc<dyn store::Store>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    pub fn new(pool: SqlitePool, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self {
            pool: Some(pool),
            queue: Arc::default(),
            commits: Arc::default(),
            metrics,
            each: None,
        }
    }

    /// Writes that each commit on their own, in `store`'s transactions: PostgreSQL
    /// commits side by side, so batching would only add waiting.
    pub fn each(store: Arc<dyn store::Store>, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self {
            pool: None,
            queue: Arc::default(),
            commits: Arc::default(),
            metrics,
            each: Some(store),
        }
    }

    /// Writes that each commit on their own, in `store`'s transactions.
    pub fn each_on(mut self, store: Arc<dyn store::Store>) -> Self {
        self.each = Some(store);
        self
    }

    /// Counts a write committed beside the writer, in a transaction of its own.
    pub fn count_commit(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// How many transactions the writer has committed (writes share them).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `work` in the next batch and returns its result once the batch is
    /// committed: an `Ok` here means the write is durable.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn store::Tx) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        if let Some(store) = &self.each {
            let mut tx = store.write().await?;
            let output = work(&mut *tx).await?;
            tx.commit().await?;
            self.commits.fetch_add(1, Ordering::Relaxed);
            return Ok(output);
        }
        let Some(pool) = &self.pool else {
            return Err(Error::Internal("the writer has no database".into()));
        };
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(Box::new(work)),
            output: None,
            reply,
        });
        self.sender(pool)
            .send(job)
            .await
            .map_err(|_| Error::Internal("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the database writer dropped a write".into()))?
    }

    /// The queue, (re)starting the task if it is not running: started lazily because
    /// a CLI command that never writes through here never needs it, and restarted
    /// if a write ever panicked it to death.
    fn sender(&self, pool: &SqlitePool) -> Queue {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match queue.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(run(
                    pool.clone(),
                    receiver,
                    self.commits.clone(),
                    self.metrics.clone(),
                ));
                *queue = Some(sender.clone());
                sender
            }
        }
    }
}

/// The task: one batch at a time, until every `Writer` handle is gone.
async fn run(
    pool: SqlitePool,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    commits: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let writes = batch.len();
        tracing::trace!(writes, "committing a batch");
        let started = std::time::Instant::now();
        if commit(&pool, &mut batch).await {
            commits.fetch_add(1, Ordering::Relaxed);
            metrics.writer_commit(writes, started.elapsed());
        }
    }
}

/// Runs and answers the whole batch; whether it was committed.
async fn commit(pool: &SqlitePool, batch: &mut Vec<Box<dyn Job>>) -> bool {
    let mut tx = match crate::db::begin_write(pool).await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(batch, &e);
            return false;
        }
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        outcomes.push(in_savepoint(&mut tx, job.as_mut()).await);
    }
    if let Err(e) = tx.commit().await.map_err(Error::from) {
        fail_all(batch, &e);
        return false;
    }
    for (job, outcome) in batch.drain(..).zip(outcomes) {
        job.finish(outcome);
    }
    true
}

/// Runs one write inside a savepoint, so that a failure undoes that write alone.
///
/// The savepoint is never released: `COMMIT` ends every open savepoint with the
/// transaction, and a `RELEASE` would be one more round trip to SQLite's thread per
/// write on the one connection every Botpress write waits for. Reusing the name is
/// safe: `ROLLBACK TO` goes back to the newest savepoint of that name, which is this
/// write's, since the writes run one after another.
async fn in_savepoint(conn: &mut SqliteConnection, job: &mut dyn Job) -> Result<()> {
    sqlx::query("savepoint write").execute(&mut *conn).await?;
    let outcome = job.run(&mut store_sqlite::on(conn)).await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            sqlx::query("rollback to write").execute(&mut *conn).await?;
            Err(e)
        }
    }
}

/// The transaction could not start or commit: nothing in it is stored.
fn fail_all(batch: &mut Vec<Box<dyn Job>>, e: &Error) {
    if !matches!(e, Error::Busy) {
        tracing::error!(error = ?e, writes = batch.len(), "a batch of writes failed");
    }
    for job in batch.drain(..) {
        let each = match e {
            Error::Busy => Error::Busy,
            _ => Error::Internal("the write could not be committed".into()),
        };
        job.finish(Err(each));
    }
}

type Work<T> = Box<dyn for<'c> FnOnce(&'c mut dyn store::Tx) -> BoxFuture<'c, Result<T>> + Send>;

/// A queued write, with its output type erased so one queue holds them all.
trait Job: Send {
    fn run<'c>(&'c mut self, tx: &'c mut dyn store::Tx) -> BoxFuture<'c, Result<()>>;
    /// Answers the caller; `outcome` is final (committed, or failed).
    fn finish(self: Box<Self>, outcome: Result<()>);
}

struct Pending<T> {
    work: Option<Work<T>>,
    output: Option<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T: Send + 'static> Job for Pending<T> {
    fn run<'c>(&'c mut self, tx: &'c mut dyn store::Tx) -> BoxFuture<'c, Result<()>> {
        Box::pin(async move {
            let work = self
                .work
                .take()
                .ok_or_else(|| Error::Internal("a write ran twice".into()))?;
            self.output = Some(work(tx).await?);
            Ok(())
        })
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        let Pending { output, reply, .. } = *self;
        let result = outcome.and_then(|()| {
            output.ok_or_else(|| Error::Internal("a write produced nothing".into()))
        });
        // The caller may have gone (its request was cancelled); the write stands.
        let _ = reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer() -> (tempfile::TempDir, SqlitePool, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let pool = crate::db::connect(&url).await.unwrap();
        let writer = Writer::new(pool.clone(), Arc::default());
        (dir, pool, writer)
    }

    /// A write of `x`: an audit entry at that time.
    fn insert(x: i64) -> impl for<'c> FnOnce(&'c mut dyn store::Tx) -> BoxFuture<'c, Result<i64>> {
        move |tx| {
            Box::pin(async move {
                let entry = store::audit::NewEntry {
                    at: x,
                    actor_id: None,
                    actor: "test",
                    ip: None,
                    action: "test.write",
                    detail: "{}",
                };
                tx.audit_insert(&entry).await?;
                Ok(x)
            })
        }
    }

    async fn stored(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("select at from audit_log order by at")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// Starts a write that holds the writer inside its transaction until released,
    /// and returns once the writer is running it (so later writes queue behind it).
    async fn hold(writer: &Writer) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Result<i64>>) {
        let (release, released) = oneshot::channel::<()>();
        let (running, started) = oneshot::channel::<()>();
        let held = writer.clone();
        let first = tokio::spawn(async move {
            held.write(move |tx| {
                Box::pin(async move {
                    let _ = running.send(());
                    let _ = released.await;
                    insert(0)(tx).await
                })
            })
            .await
        });
        started.await.unwrap();
        (release, first)
    }

    async fn queued(writer: &Writer) -> usize {
        let sender = writer.sender(writer.pool.as_ref().unwrap());
        sender.max_capacity() - sender.capacity()
    }

    #[tokio::test]
    async fn writes_waiting_behind_a_commit_share_the_next_one() {
        let (_dir, pool, writer) = writer().await;
        let (release, first) = hold(&writer).await;
        let mut rest = Vec::new();
        for x in 1..=20 {
            let w = writer.clone();
            rest.push(tokio::spawn(async move { w.write(insert(x)).await }));
        }
        while queued(&writer).await < 20 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (x, write) in (1..=20).zip(rest) {
            assert_eq!(write.await.unwrap().unwrap(), x);
        }
        // Every answered write is stored, and the twenty took one commit, not twenty.
        assert_eq!(stored(&pool).await, (0..=20).collect::<Vec<_>>());
        assert_eq!(writer.commits(), 2);
    }

    #[tokio::test]
    async fn a_failing_write_is_rolled_back_alone() {
        let (_dir, pool, writer) = writer().await;
        let (release, first) = hold(&writer).await;
        let w = writer.clone();
        let failing = tokio::spawn(async move {
            w.write(|tx| {
                Box::pin(async move {
                    insert(1)(tx).await?;
                    Err::<(), _>(Error::invalid("no"))
                })
            })
            .await
        });
        let w = writer.clone();
        let fine = tokio::spawn(async move { w.write(insert(2)).await });
        while queued(&writer).await < 2 {
            tokio::task::yield_now().await;
        }
        // A second failure after a success must undo itself only, not the success
        // before it (the savepoints share a name).
        let w = writer.clone();
        let failing_too = tokio::spawn(async move {
            w.write(|tx| {
                Box::pin(async move {
                    insert(3)(tx).await?;
                    Err::<(), _>(Error::invalid("nor this"))
                })
            })
            .await
        });
        while queued(&writer).await < 3 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert!(matches!(failing.await.unwrap(), Err(Error::Invalid(m)) if m == "no"));
        assert_eq!(fine.await.unwrap().unwrap(), 2);
        assert!(matches!(failing_too.await.unwrap(), Err(Error::Invalid(m)) if m == "nor this"));
        // The failed writes' own inserts are gone; their batch-mates' are stored.
        assert_eq!(stored(&pool).await, vec![0, 2]);
        assert_eq!(writer.commits(), 2);
    }

    #[tokio::test]
    async fn a_batch_that_cannot_take_the_lock_fails_whole_as_busy() {
        let (_dir, pool, writer) = writer().await;
        let mut other = pool.acquire().await.unwrap();
        sqlx::query("begin immediate")
            .execute(&mut *other)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let err = writer.write(insert(1)).await.unwrap_err();
        assert!(matches!(err, Error::Busy), "{err:?}");
        assert!(started.elapsed() >= crate::db::BUSY_TIMEOUT);
        sqlx::query("rollback").execute(&mut *other).await.unwrap();
        drop(other);
        // Nothing of it was stored, and the writer carries on.
        assert_eq!(stored(&pool).await, Vec::<i64>::new());
        assert_eq!(writer.write(insert(3)).await.unwrap(), 3);
        assert_eq!(stored(&pool).await, vec![3]);
    }
}
