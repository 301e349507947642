//! Background jobs that must run once across every process serving the database,
//! not once per replica: each runs on the process that holds its lease
//! (`store::leases`). The holder renews the lease every run; if it dies, another
//! process takes the job over once the lease runs out. On SQLite the one process
//! always holds every lease.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{Result, Services};

/// The jobs that take a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Closes queued tickets nobody wrote in (`tickets::housekeeping`).
    Housekeeping,
    /// Deletes expired sign-in sessions.
    SessionCleanup,
    /// Asks the Botpress API about tickets and close requests (`botpress::sync`).
    BotpressSync,
    /// Copies customers' media (`media`).
    Media,
    /// Keeps the events table short (`realtime::shared::prune`).
    PruneEvents,
    /// Forgets sign-in failures past the window (`accounts::throttle`).
    SignInPrune,
}

impl Job {
    /// The lease's name in the database.
    pub fn name(self) -> &'static str {
        match self {
            Job::Housekeeping => "housekeeping",
            Job::SessionCleanup => "session-cleanup",
            Job::BotpressSync => "botpress-sync",
            Job::Media => "media",
            Job::PruneEvents => "prune-events",
            Job::SignInPrune => "sign-in-prune",
        }
    }
}

/// Whether this process holds `job`'s lease for the next `period` (and two more, so
/// one late run does not lose it); takes or renews it if it can.
pub async fn holds(services: &Services, job: Job, period: Duration) -> Result<bool> {
    let now = crate::clock::now_ms();
    let span = i64::try_from(period.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
    let mut tx = services.store.write().await?;
    let held = tx
        .lease_take(
            job.name(),
            services.replica(),
            now,
            now.saturating_add(span),
        )
        .await?;
    tx.commit().await?;
    Ok(held)
}

/// Gives up `job`'s lease, so another process takes it at once (a clean stop).
pub async fn release(services: &Services, job: Job) {
    let released = async {
        let mut tx = services.store.write().await?;
        tx.lease_release(job.name(), services.replica()).await?;
        tx.commit().await?;
        Ok::<(), crate::Error>(())
    };
    if let Err(e) = released.await {
        tracing::warn!(job = job.name(), error = ?e, "cannot release a job's lease");
    }
}

/// Runs `run` every `period` while this process holds `job`'s lease, until `cancel`
/// fires; then gives the lease up.
pub async fn every<F, Fut>(
    services: &Services,
    job: Job,
    period: Duration,
    cancel: &CancellationToken,
    run: F,
) where
    F: Fn(Services) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    loop {
        match holds(services, job, period).await {
            Ok(true) => {
                if let Err(e) = run(services.clone()).await {
                    tracing::error!(job = job.name(), error = ?e, "background job failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(job = job.name(), error = ?e, "cannot take a job's lease"),
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(period) => {}
        }
    }
    release(services, job).await;
}
