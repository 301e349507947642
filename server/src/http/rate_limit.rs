//! Per-connection request rate for the Botpress endpoints: a token bucket per
//! connection.
//!
//! Botpress itself lets a bot make 600 requests a minute. A bot within that never
//! meets this limit (the default sustained rate is twice that, with a burst of a
//! minute's worth on top), but a runaway bot or a leaked endpoint token cannot flood
//! the database and starve every other bot. The answer is 429 with `Retry-After`,
//! which the Botpress client retries by itself; nothing is stored for a refused call,
//! so nothing is lost or doubled.
//!
//! With several replicas behind a load balancer, each takes its share: the rate and
//! the burst divided by the number of replicas alive ([`RateLimit::check_among`]).
//! A balancer spreads a bot's requests over them, so the fleet allows about the
//! configured rate, and no request waits for the database to be counted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    /// Tokens added per second.
    per_second: f64,
    /// Bucket size: how far above the sustained rate a burst may go.
    burst: f64,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        (self.per_second * 60.0).round() as u32
    }

    /// Takes one request from `key`'s bucket, or says how many whole seconds until
    /// one is available.
    pub fn check(&self, key: i64) -> Result<(), u64> {
        self.check_at(key, Instant::now(), 1)
    }

    /// [`RateLimit::check`] on one of `replicas` replicas: this one's share.
    pub fn check_among(&self, key: i64, replicas: u64) -> Result<(), u64> {
        self.check_at(key, Instant::now(), replicas.max(1))
    }

    fn check_at(&self, key: i64, now: Instant, replicas: u64) -> Result<(), u64> {
        let share = replicas as f64;
        let (per_second, burst) = (self.per_second / share, (self.burst / share).max(1.0));
        // A poisoned lock only means another request panicked mid-update; the
        // numbers are still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second.max(f64::MIN_POSITIVE);
            Err(wait.ceil().clamp(1.0, 3600.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_are_allowed_then_bounded_then_refilled() {
        let limit = RateLimit::new(60, 5);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limit.check_at(1, start, 1), Ok(()));
        }
        assert_eq!(limit.check_at(1, start, 1), Err(1), "the burst is spent");
        assert_eq!(
            limit.check_at(2, start, 1),
            Ok(()),
            "other connections unaffected"
        );
        let later = start + Duration::from_secs(2);
        assert_eq!(limit.check_at(1, later, 1), Ok(()));
        assert_eq!(limit.check_at(1, later, 1), Ok(()));
        assert!(limit.check_at(1, later, 1).is_err());
        // Refill stops at the burst size however long the bot was quiet.
        let much_later = start + Duration::from_secs(3600);
        for _ in 0..5 {
            assert_eq!(limit.check_at(1, much_later, 1), Ok(()));
        }
        assert!(limit.check_at(1, much_later, 1).is_err());
    }

    #[test]
    fn each_of_several_replicas_takes_its_share() {
        let limit = RateLimit::new(120, 6);
        let start = Instant::now();
        // Three replicas: a burst of two each, and a request a second each.
        for _ in 0..2 {
            assert_eq!(limit.check_at(1, start, 3), Ok(()));
        }
        assert_eq!(
            limit.check_at(1, start, 3),
            Err(2),
            "two of six is this one's"
        );
        let later = start + Duration::from_secs(2);
        assert_eq!(limit.check_at(1, later, 3), Ok(()));
        assert!(limit.check_at(1, later, 3).is_err());
    }
}
