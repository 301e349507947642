//! Group commit: the Botpress endpoints' writes, batched into shared transactions.
//!
//! Every commit flushes to disk (SQLite's WAL with `synchronous = FULL`, PostgreSQL's
//! WAL), so that a 2xx survives power loss, and the flush, not the statements, is
//! most of a write's cost. One task takes whatever writes are waiting, runs each
//! inside its own savepoint of a single transaction, commits once, and only then
//! answers each caller. Under load, dozens of requests share one flush; alone, a
//! write is committed as soon as it arrives (the writer never waits to fill a batch).
//!
//! A write that fails is rolled back to its savepoint and fails alone; the rest of
//! the batch still commits. If the commit itself fails, every write in the batch
//! fails, and none of them is stored.
//!
//! The writer is also the single writer for these endpoints: on SQLite they queue in
//! the channel instead of polling SQLite's lock in `busy_timeout` sleeps; on
//! PostgreSQL, where every write holds the write lock through its commit, they share
//! one hold of it (and one flush) instead of taking turns.
//!
//! On PostgreSQL, with several replicas, a write's realtime events go into the events
//! table inside its savepoint ([`Writer::write_announcing`]): they are committed with
//! it, or rolled back with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};
use store::events::{Events, NewEvent};
use tokio::sync::{mpsc, oneshot};

use crate::effects::Effects;
use crate::{Error, Result};

/// The most writes one SQLite transaction takes; more wait for the next one. Bounds
/// how long the write lock is held at a time (agents' own writes wait behind it).
const MAX_BATCH: usize = 128;

/// The most writes one PostgreSQL transaction takes. Each write is a subtransaction,
/// and PostgreSQL remembers only 64 of a transaction's in each session's shared
/// memory: past that, every other session's visibility checks read `pg_subtrans`.
const MAX_BATCH_POSTGRES: usize = 48;

/// Writes waiting beyond this make callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;

type Queue = mpsc::Sender<Box<dyn Job>>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The database the writer commits to.
#[derive(Clone)]
enum Engine {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the writer task, started on first use. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    engine: Engine,
    queue: Arc<Mutex<Option<Queue>>>,
    commits: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    pub fn new(pool: SqlitePool, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self::on(Engine::Sqlite(pool), metrics)
    }

    /// The group commit on PostgreSQL.
    pub fn postgres(pool: PgPool, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self::on(Engine::Postgres(pool), metrics)
    }

    fn on(engine: Engine, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self {
            engine,
            queue: Arc::default(),
            commits: Arc::default(),
            metrics,
        }
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
        self.enqueue(work, None).await
    }

    /// [`Writer::write`] for a write whose realtime events the events table numbers
    /// (PostgreSQL's, shared by replicas): they are appended in the write's own
    /// savepoint, and the effects come back without them.
    pub async fn write_announcing<F>(&self, work: F) -> Result<Effects>
    where
        F: for<'c> FnOnce(&'c mut dyn store::Tx) -> BoxFuture<'c, Result<Effects>> + Send + 'static,
    {
        self.enqueue(work, Some(Effects::take_stored_events)).await
    }

    async fn enqueue<T, F>(&self, work: F, events: Option<fn(&mut T) -> Vec<NewEvent>>) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn store::Tx) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(Box::new(work)),
            output: None,
            events,
            reply,
        });
        self.sender()
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
    fn sender(&self) -> Queue {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match queue.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(run(
                    self.engine.clone(),
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
    engine: Engine,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    commits: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let most = match engine {
        Engine::Sqlite(_) => MAX_BATCH,
        Engine::Postgres(_) => MAX_BATCH_POSTGRES,
    };
    let mut batch = Vec::with_capacity(most);
    while queue.recv_many(&mut batch, most).await > 0 {
        let writes = batch.len();
        tracing::trace!(writes, "committing a batch");
        let started = std::time::Instant::now();
        let committed = match &engine {
            Engine::Sqlite(pool) => commit(pool, &mut batch).await,
            Engine::Postgres(pool) => commit_postgres(pool, &mut batch).await,
        };
        if committed {
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
    finish(tx.commit().await.map_err(Error::from), batch, outcomes)
}

/// [`commit`] on PostgreSQL.
async fn commit_postgres(pool: &PgPool, batch: &mut Vec<Box<dyn Job>>) -> bool {
    let mut tx = match store_postgres::begin_write(pool).await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(batch, &e.into());
            return false;
        }
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        outcomes.push(in_savepoint_postgres(&mut tx, job.as_mut()).await);
    }
    finish(tx.commit().await.map_err(Error::from), batch, outcomes)
}

/// Answers every write of a batch once its commit is known.
fn finish(committed: Result<()>, batch: &mut Vec<Box<dyn Job>>, outcomes: Vec<Result<()>>) -> bool {
    if let Err(e) = committed {
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

/// [`in_savepoint`] on PostgreSQL, where the write's events go into the events
/// table in the same savepoint. (A failed statement aborts PostgreSQL's transaction
/// until the rollback, so that comes first.)
async fn in_savepoint_postgres(conn: &mut PgConnection, job: &mut dyn Job) -> Result<()> {
    sqlx::query("savepoint write").execute(&mut *conn).await?;
    let outcome = async {
        let mut tx = store_postgres::on(&mut *conn);
        job.run(&mut tx).await?;
        let events = job.take_events();
        if !events.is_empty() {
            tx.events_append(&events).await?;
        }
        Ok::<(), Error>(())
    }
    .await;
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
    /// The events to append with the write, once it has run (none unless it asked).
    fn take_events(&mut self) -> Vec<NewEvent>;
    /// Answers the caller; `outcome` is final (committed, or failed).
    fn finish(self: Box<Self>, outcome: Result<()>);
}

struct Pending<T> {
    work: Option<Work<T>>,
    output: Option<T>,
    /// Takes the events out of the output, for [`Writer::write_announcing`].
    events: Option<fn(&mut T) -> Vec<NewEvent>>,
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

    fn take_events(&mut self) -> Vec<NewEvent> {
        match (self.events, self.output.as_mut()) {
            (Some(take), Some(output)) => take(output),
            _ => Vec::new(),
        }
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
        let sender = writer.sender();
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
