//! Time as the database stores it: UTC milliseconds since the Unix epoch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Lets something happen at most once per period for each key (an account, a
/// connection), remembered in memory: for timestamps that only need to be about right,
/// so that a busy caller does not turn every request into a write.
#[derive(Debug)]
pub struct Every {
    period_ms: i64,
    last: Mutex<HashMap<i64, i64>>,
}

impl Every {
    pub fn new(period_ms: i64) -> Self {
        Self {
            period_ms,
            last: Mutex::default(),
        }
    }

    /// Whether it is due for `key` at `now`; if it is, it counts as done at `now`.
    pub fn due(&self, key: i64, now: i64) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match last.get(&key) {
            Some(at) if now - at < self.period_ms => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lets_one_through_per_period_and_key() {
        let every = Every::new(1000);
        assert!(every.due(1, 5_000));
        assert!(!every.due(1, 5_999));
        assert!(every.due(2, 5_999), "another key has its own period");
        assert!(every.due(1, 6_000));
        assert!(!every.due(1, 6_500));
    }
}
