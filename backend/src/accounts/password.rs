//! Password hashing with Argon2id, off the async threads, a few at a time.
//!
//! Verification of an unknown account runs against a fixed dummy hash, so the time a
//! sign-in takes does not reveal whether the email exists.
//!
//! Each hash takes 19 MiB and a core for a moment, so an unbounded number at once is
//! a way to exhaust the machine (512 parallel requests took about 10 GB). At most one
//! runs per core; a short queue waits behind them; past that, the caller gets
//! [`Error::Overloaded`] (503 with `Retry-After`) at once. Nothing queues without
//! bound, and callers check everything cheaper (tokens, rate limits) before hashing.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::{Error, Result};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 1024;

/// How many hashes may wait for a core, beyond those running.
pub const QUEUE: usize = 32;

struct Limiter {
    /// One permit per hash that may run now.
    running: Semaphore,
    /// One permit per hash running or waiting.
    admitted: Semaphore,
    workers: usize,
    started: AtomicU64,
    refused: AtomicU64,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

static LIMITER: LazyLock<Limiter> = LazyLock::new(|| {
    Limiter::new(
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        QUEUE,
    )
});

/// What the limiter has done since start (for operators and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Hashes that may run at once (the number of cores).
    pub workers: usize,
    /// Hashes and verifications started.
    pub started: u64,
    /// Refused because the queue was full.
    pub refused: u64,
    /// The most that ever ran at once.
    pub peak: usize,
}

pub fn stats() -> Stats {
    LIMITER.stats()
}

impl Limiter {
    fn new(workers: usize, queue: usize) -> Self {
        Limiter {
            running: Semaphore::new(workers),
            admitted: Semaphore::new(workers + queue),
            workers,
            started: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    fn stats(&self) -> Stats {
        Stats {
            workers: self.workers,
            started: self.started.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            peak: self.peak.load(Ordering::Relaxed),
        }
    }

    /// Runs Argon2 work on the blocking pool once a core is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let Ok(_admitted) = self.admitted.try_acquire() else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Overloaded);
        };
        let _running = self
            .running
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("password limiter closed: {e}")))?;
        self.started.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        let result = tokio::task::spawn_blocking(work).await;
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        result.map_err(|e| Error::Internal(format!("password task failed: {e}")))?
    }
}

/// A valid hash of a random password nobody knows, computed once.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let secret = crate::ids::new_token().ok()?;
    Argon2::default()
        .hash_password(secret.as_bytes())
        .ok()
        .map(|h| h.to_string())
});

/// Checks the rules a new password must meet.
pub fn validate(password: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Error::invalid(format!(
            "the password must be at least {MIN_LENGTH} characters long"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(Error::invalid(format!(
            "the password must be at most {MAX_LENGTH} bytes long"
        )));
    }
    Ok(())
}

/// Hashes a password (PHC string, Argon2id with default parameters).
pub async fn hash(password: String) -> Result<String> {
    validate(&password)?;
    LIMITER
        .run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
        })
        .await
}

/// Whether `password` matches `stored`. With no stored hash (unknown account, or no
/// password set yet) the same work is done against the dummy hash and `false` returned.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    LIMITER.run(move || check(&password, stored)).await
}

/// The blocking half of [`verify`].
fn check(password: &str, stored: Option<String>) -> Result<bool> {
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (
            DUMMY_HASH
                .clone()
                .ok_or_else(|| Error::Internal("no dummy password hash".into()))?,
            false,
        ),
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), hash.as_str())
        .is_ok();
    Ok(real && matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_reject() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(stored))
                .await
                .unwrap()
        );
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_there_are_cores_and_the_queue_is_bounded() {
        // Its own limiter: filling the shared one would refuse other tests' hashes.
        let limiter = std::sync::Arc::new(Limiter::new(2, 8));
        let before = limiter.stats();
        let burst = 2 + 8 + 40;
        let tasks: Vec<_> = (0..burst)
            .map(|i| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter
                        .run(move || check(&format!("guess number {i}"), None))
                        .await
                })
            })
            .collect();
        let mut overloaded = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(false) => {}
                Err(Error::Overloaded) => overloaded += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        let after = limiter.stats();
        assert!(after.peak <= 2, "{after:?}");
        assert_eq!(after.started - before.started, 10, "{after:?}");
        assert!(
            overloaded > 0,
            "a burst past the queue is refused, not queued"
        );
        assert_eq!(after.refused - before.refused, overloaded as u64);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("short").is_err());
        assert!(validate("long enough!").is_ok());
    }
}
