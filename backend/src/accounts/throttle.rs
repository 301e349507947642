//! Sign-in rate limits: per account and per client address, over a sliding window.
//!
//! Only failures count, so a person who signs in correctly is never slowed down; a
//! success clears the account's count. Kept in memory: a restart forgets the counts,
//! which costs an attacker nothing they could not get by waiting, and keeps the
//! sign-in path free of database writes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account within [`WINDOW`].
pub const PER_ACCOUNT: usize = 5;
/// Failures allowed per client address within [`WINDOW`] (several people may share one).
pub const PER_ADDRESS: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(ip: &str) -> String {
    format!("address:{ip}")
}

impl LoginThrottle {
    /// `Err(seconds)` when this attempt must wait; checked before the password is.
    pub fn check(&self, email: &str, ip: Option<&str>) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = Duration::ZERO;
        let mut keys = vec![(account_key(email), PER_ACCOUNT)];
        if let Some(ip) = ip {
            keys.push((address_key(ip), PER_ADDRESS));
        }
        for (key, limit) in keys {
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    times.pop_front();
                }
                if times.len() >= limit
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max(WINDOW.saturating_sub(now.duration_since(*oldest)));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs().max(1))
        }
    }

    pub fn failed(&self, email: &str, ip: Option<&str>) {
        let now = Instant::now();
        if let Ok(mut failures) = self.failures.lock() {
            failures
                .entry(account_key(email))
                .or_default()
                .push_back(now);
            if let Some(ip) = ip {
                failures.entry(address_key(ip)).or_default().push_back(now);
            }
            // Bound the memory an attacker can make us use with made-up emails.
            if failures.len() > 100_000 {
                failures.retain(|_, times| {
                    times
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < WINDOW)
                });
            }
        }
    }

    pub fn succeeded(&self, email: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&account_key(email));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_after_five_failures_and_freed_by_success() {
        let t = LoginThrottle::default();
        for _ in 0..PER_ACCOUNT {
            assert!(t.check("Ana@Example.com", Some("10.0.0.1")).is_ok());
            t.failed("ana@example.com", Some("10.0.0.1"));
        }
        let wait = t.check("ana@example.com", Some("10.0.0.2")).unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(t.check("ben@example.com", Some("10.0.0.1")).is_ok());
        t.succeeded("ana@example.com");
        assert!(t.check("ana@example.com", Some("10.0.0.1")).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("user{i}@example.com"), Some("10.0.0.9"));
        }
        assert!(t.check("new@example.com", Some("10.0.0.9")).is_err());
        assert!(t.check("new@example.com", Some("10.0.0.8")).is_ok());
    }
}
