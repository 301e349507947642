//! Sign-in rate limits, over a sliding window.
//!
//! Three counts of failures, each checked before the password is:
//! - per client address: [`PER_ADDRESS`] per [`WINDOW`] (several people may share one);
//! - per account from one address: [`PER_ACCOUNT_ADDRESS`] per [`WINDOW`];
//! - per account from anywhere: after [`ACCOUNT_FREE`] failures, each further attempt
//!   waits a delay that doubles up to [`MAX_DELAY`]. Rising delays rather than a
//!   lockout, so a stranger guessing from many addresses slows an admin down but can
//!   never lock them out.
//!
//! An attempt is counted as failed when it *starts* ([`LoginThrottle::begin`]) and the
//! count is given back when the password was right ([`Attempt::succeeded`]). Counting
//! only after the check let a burst of parallel guesses all pass "5 per 15 minutes".
//!
//! Keys are digests, so a made-up email of any length costs the same small entry;
//! expired entries are pruned by a timer ([`LoginThrottle::prune`]).
//!
//! Where they are counted ([`Limits`]): with one process (SQLite), in memory. A
//! restart forgets the counts, which costs an attacker nothing they could not get by
//! waiting, and keeps the sign-in path free of database writes. With replicas
//! (PostgreSQL), in the database, by the same rules: a guesser spreading attempts
//! over the replicas gets no more than from one. Each check there is one write
//! transaction, serialised with the others, so parallel guesses still reserve their
//! places one at a time.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failures allowed per client address within [`WINDOW`].
pub const PER_ADDRESS: usize = 20;
/// Failures allowed per account from one address within [`WINDOW`].
pub const PER_ACCOUNT_ADDRESS: usize = 5;
/// Failures per account (from any address) within [`WINDOW`] before delays start.
pub const ACCOUNT_FREE: usize = 10;
/// The longest delay an account's attempts wait.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many keys, `begin` prunes at once instead of waiting for the timer.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Account([u8; 16]),
    Address(IpAddr),
    AccountAddress([u8; 16]),
}

fn digest(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0]);
    }
    let full = h.finalize();
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn account(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The keys an attempt counts under: the account, and with an address, the address
/// and the pair.
fn keys_of(email: &str, ip: Option<IpAddr>) -> Vec<Key> {
    let email = account(email);
    let mut keys = vec![Key::Account(digest(&[email.as_bytes()]))];
    if let Some(ip) = ip {
        keys.push(Key::Address(ip));
        keys.push(Key::AccountAddress(digest(&[
            email.as_bytes(),
            ip.to_string().as_bytes(),
        ])));
    }
    keys
}

impl Key {
    /// The key as the database stores it: a kind byte, then the digest or address.
    fn bytes(&self) -> Vec<u8> {
        let (kind, body): (u8, Vec<u8>) = match self {
            Key::Account(d) => (b'a', d.to_vec()),
            Key::Address(IpAddr::V4(ip)) => (b'4', ip.octets().to_vec()),
            Key::Address(IpAddr::V6(ip)) => (b'6', ip.octets().to_vec()),
            Key::AccountAddress(d) => (b'p', d.to_vec()),
        };
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(kind);
        out.extend(body);
        out
    }
}

/// The key that holds an attempt back longest, and for how long; `None` when none
/// does.
fn limiting(state: &State, keys: &[Key], now: Instant) -> Option<(usize, Duration)> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| (i, state.wait(k, now)))
        .filter(|(_, w)| !w.is_zero())
        .max_by_key(|(_, w)| *w)
}

fn seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[derive(Debug, Default)]
struct State {
    failures: HashMap<Key, VecDeque<Instant>>,
    /// When a refusal for the key was last reported (audited): once per window.
    reported: HashMap<Key, Instant>,
}

impl State {
    fn prune(&mut self, now: Instant) {
        self.failures.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= WINDOW)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        self.reported
            .retain(|_, at| now.duration_since(*at) < WINDOW);
    }

    fn recent(&self, key: &Key, now: Instant) -> impl Iterator<Item = &Instant> {
        self.failures
            .get(key)
            .into_iter()
            .flatten()
            .filter(move |t| now.duration_since(**t) < WINDOW)
    }

    /// How long an attempt under `key` must still wait.
    fn wait(&self, key: &Key, now: Instant) -> Duration {
        let times: Vec<&Instant> = self.recent(key, now).collect();
        let expiry = |limit: usize| {
            if times.len() >= limit {
                times.first().map_or(Duration::ZERO, |oldest| {
                    WINDOW.saturating_sub(now.duration_since(**oldest))
                })
            } else {
                Duration::ZERO
            }
        };
        match key {
            Key::Address(_) => expiry(PER_ADDRESS),
            Key::AccountAddress(_) => expiry(PER_ACCOUNT_ADDRESS),
            Key::Account(_) => {
                let Some(over) = (times.len() + 1).checked_sub(ACCOUNT_FREE + 1) else {
                    return Duration::ZERO;
                };
                let delay = Duration::from_secs(1u64 << over.min(16)).min(MAX_DELAY);
                let since = times
                    .last()
                    .map_or(delay, |newest| now.duration_since(**newest));
                delay.saturating_sub(since)
            }
        }
    }
}

/// An attempt refused for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until an attempt may be made (at least 1).
    pub wait: u64,
    /// The first refusal of this kind in the window: worth an audit entry. Later
    /// ones are not, or a flood of refused attempts would fill the audit log.
    pub first: bool,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    state: Mutex<State>,
}

/// A sign-in attempt that passed the limits and already counts as a failure.
#[must_use = "call `succeeded` when the password was right; dropping it counts a failure"]
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<Key>,
    at: Instant,
}

impl LoginThrottle {
    /// Checks the limits for `email` from `ip` and, if the attempt may go ahead,
    /// counts it as a failure until [`Attempt::succeeded`] says otherwise.
    pub fn begin(&self, email: &str, ip: Option<IpAddr>) -> Result<Attempt<'_>, Limited> {
        self.begin_at(email, ip, Instant::now())
    }

    fn begin_at(
        &self,
        email: &str,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Limited> {
        let keys = keys_of(email, ip);
        let Ok(mut state) = self.state.lock() else {
            // A panic while holding the lock; refusing every sign-in would be worse.
            return Ok(Attempt {
                throttle: self,
                keys: Vec::new(),
                at: now,
            });
        };
        if state.failures.len() > MAX_KEYS {
            state.prune(now);
        }
        if let Some((i, wait)) = limiting(&state, &keys, now) {
            let key = keys[i];
            let first = state
                .reported
                .get(&key)
                .is_none_or(|at| now.duration_since(*at) >= WINDOW);
            if first {
                state.reported.insert(key, now);
            }
            return Err(Limited {
                wait: seconds(wait),
                first,
            });
        }
        for key in &keys {
            state.failures.entry(*key).or_default().push_back(now);
        }
        Ok(Attempt {
            throttle: self,
            keys,
            at: now,
        })
    }

    /// Forgets what has left the window; run by a timer.
    pub fn prune(&self) {
        self.prune_at(Instant::now());
    }

    fn prune_at(&self, now: Instant) {
        if let Ok(mut state) = self.state.lock() {
            state.prune(now);
        }
    }

    /// How many keys are held (for tests and operators).
    pub fn keys(&self) -> usize {
        self.state.lock().map_or(0, |s| s.failures.len())
    }
}

/// Prunes the throttle every minute until cancelled, so made-up emails cannot
/// make it grow between sign-ins.
pub async fn pruning(
    throttle: std::sync::Arc<LoginThrottle>,
    cancel: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(Duration::from_secs(60)) => throttle.prune(),
        }
    }
}

impl Attempt<'_> {
    /// The password was right: this attempt was no failure, and the account's
    /// rising delay starts over. What other addresses tried against the account
    /// stays counted against them, as do this address's failures on other accounts.
    pub fn succeeded(self) {
        self.settle(true);
    }

    /// The password could not be checked (Baton was too busy): the attempt does not
    /// count either way.
    pub fn cancelled(self) {
        self.settle(false);
    }

    fn settle(self, forgive: bool) {
        let Ok(mut state) = self.throttle.state.lock() else {
            return;
        };
        for key in &self.keys {
            if forgive && !matches!(key, Key::Address(_)) {
                state.failures.remove(key);
            } else if let Some(times) = state.failures.get_mut(key)
                && let Some(i) = times.iter().rposition(|t| *t == self.at)
            {
                times.remove(i);
            }
        }
    }
}

/// Where this installation counts sign-in attempts (see the module's notes).
#[derive(Debug, Clone)]
pub enum Limits {
    /// One process: in memory.
    Memory(std::sync::Arc<LoginThrottle>),
    /// Replicas: in the database, shared by all of them.
    Shared(std::sync::Arc<dyn store::Store>),
}

/// A sign-in attempt that passed the limits and already counts as a failure.
#[must_use = "call `succeeded` when the password was right; dropping it counts a failure"]
#[derive(Debug)]
pub enum Reserved<'a> {
    Memory(Attempt<'a>),
    Shared {
        store: &'a dyn store::Store,
        keys: Vec<Key>,
        at: i64,
    },
}

impl Limits {
    /// Checks the limits for `email` from `ip` and, if the attempt may go ahead,
    /// counts it as a failure until [`Reserved::succeeded`] says otherwise. An error
    /// means the limits could not be read: the attempt must not go ahead.
    pub async fn begin(
        &self,
        email: &str,
        ip: Option<IpAddr>,
    ) -> crate::Result<Result<Reserved<'_>, Limited>> {
        match self {
            Limits::Memory(throttle) => Ok(throttle.begin(email, ip).map(Reserved::Memory)),
            Limits::Shared(store) => begin_shared(&**store, email, ip).await,
        }
    }

    /// How many keys the memory holds (0 when the database holds them).
    pub fn keys(&self) -> usize {
        match self {
            Limits::Memory(throttle) => throttle.keys(),
            Limits::Shared(_) => 0,
        }
    }
}

async fn begin_shared<'a>(
    store: &'a dyn store::Store,
    email: &str,
    ip: Option<IpAddr>,
) -> crate::Result<Result<Reserved<'a>, Limited>> {
    let keys = keys_of(email, ip);
    let bytes: Vec<Vec<u8>> = keys.iter().map(Key::bytes).collect();
    let now = Instant::now();
    let now_ms = crate::clock::now_ms();
    let window_ms = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
    let since = now_ms - window_ms + 1;
    let mut tx = store.write().await?;
    let Some(shared) = tx.replicas() else {
        return Err(crate::Error::Internal(
            "this database cannot share sign-in limits".into(),
        ));
    };
    // The stored failures, as the rules read them: instants this long ago.
    let mut state = State::default();
    for (key, at) in shared.sign_in_failures(&bytes, since).await? {
        let ago = Duration::from_millis(u64::try_from(now_ms - at).unwrap_or(0));
        if let (Some(i), Some(t)) = (bytes.iter().position(|b| *b == key), now.checked_sub(ago)) {
            state.failures.entry(keys[i]).or_default().push_back(t);
        }
    }
    if let Some((i, wait)) = limiting(&state, &keys, now) {
        let first = shared.sign_in_refused(&bytes[i], now_ms, since).await?;
        tx.commit().await?;
        return Ok(Err(Limited {
            wait: seconds(wait),
            first,
        }));
    }
    shared.sign_in_fail(&bytes, now_ms).await?;
    tx.commit().await?;
    Ok(Ok(Reserved::Shared {
        store,
        keys,
        at: now_ms,
    }))
}

impl Reserved<'_> {
    /// The password was right (see [`Attempt::succeeded`]).
    pub async fn succeeded(self) -> crate::Result<()> {
        self.settle(true).await
    }

    /// The password could not be checked (see [`Attempt::cancelled`]).
    pub async fn cancelled(self) -> crate::Result<()> {
        self.settle(false).await
    }

    async fn settle(self, forgive: bool) -> crate::Result<()> {
        match self {
            Reserved::Memory(attempt) => {
                attempt.settle(forgive);
                Ok(())
            }
            Reserved::Shared { store, keys, at } => {
                let mut tx = store.write().await?;
                if let Some(shared) = tx.replicas() {
                    for key in &keys {
                        let all = forgive && !matches!(key, Key::Address(_));
                        shared
                            .sign_in_forget(&key.bytes(), (!all).then_some(at))
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }
}

/// Deletes what has left the window from the database, every minute, on one
/// replica (the memory is pruned by [`pruning`]).
pub async fn pruning_shared(
    services: crate::Services,
    cancel: tokio_util::sync::CancellationToken,
) {
    crate::jobs::every(
        &services,
        crate::jobs::Job::SignInPrune,
        Duration::from_secs(60),
        &cancel,
        |services| async move {
            let window_ms = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
            let mut tx = services.store.write().await?;
            if let Some(shared) = tx.replicas() {
                shared
                    .sign_in_prune(crate::clock::now_ms() - window_ms)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn an_account_is_limited_per_address_after_five_failures_and_freed_by_success() {
        let t = LoginThrottle::default();
        for _ in 0..PER_ACCOUNT_ADDRESS {
            drop(t.begin("Ana@Example.com", ip(1)).unwrap());
        }
        let limited = t.begin("ana@example.com ", ip(1)).unwrap_err();
        assert!(limited.wait > 0 && limited.wait <= WINDOW.as_secs());
        assert!(limited.first);
        assert!(
            !t.begin("ana@example.com", ip(1)).unwrap_err().first,
            "reported once"
        );
        // Another address, or another account, is not limited by it.
        t.begin("ana@example.com", ip(2)).unwrap().succeeded();
        assert!(t.begin("ben@example.com", ip(1)).is_ok());
        // Ana signing in from .2 does not free whoever guessed from .1.
        assert!(t.begin("ana@example.com", ip(1)).is_err());
        assert!(t.begin("ana@example.com", ip(3)).is_ok());
    }

    #[test]
    fn an_attempt_that_could_not_be_checked_does_not_count() {
        let t = LoginThrottle::default();
        for _ in 0..PER_ACCOUNT_ADDRESS * 3 {
            t.begin("ana@example.com", ip(1)).unwrap().cancelled();
        }
        assert!(t.begin("ana@example.com", ip(1)).is_ok());
    }

    #[test]
    fn parallel_attempts_reserve_their_place_before_the_password_is_checked() {
        let t = LoginThrottle::default();
        // Fifty at once, none finished yet: only five go ahead.
        let started: Vec<_> = (0..50).map(|_| t.begin("ana@example.com", ip(1))).collect();
        assert_eq!(
            started.iter().filter(|a| a.is_ok()).count(),
            PER_ACCOUNT_ADDRESS
        );
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS {
            drop(t.begin(&format!("user{i}@example.com"), ip(9)).unwrap());
        }
        assert!(t.begin("new@example.com", ip(9)).is_err());
        assert!(t.begin("new@example.com", ip(8)).is_ok());
    }

    #[test]
    fn a_success_gives_the_address_its_attempt_back() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS {
            t.begin(&format!("user{i}@example.com"), ip(7))
                .unwrap()
                .succeeded();
        }
        assert!(t.begin("one.more@example.com", ip(7)).is_ok());
    }

    #[test]
    fn guesses_from_many_addresses_slow_an_account_down_but_never_lock_it() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..ACCOUNT_FREE {
            drop(t.begin_at("admin@example.com", ip(i as u8), start).unwrap());
        }
        // The next waits a second, then two, then four…
        let limited = t.begin_at("admin@example.com", ip(100), start).unwrap_err();
        assert_eq!(limited.wait, 1);
        let later = start + Duration::from_secs(1);
        drop(t.begin_at("admin@example.com", ip(101), later).unwrap());
        assert_eq!(
            t.begin_at("admin@example.com", ip(102), later)
                .unwrap_err()
                .wait,
            2
        );
        // …never more than MAX_DELAY, however many guesses came before: a guesser
        // who always waits just long enough still leaves the admin a turn a minute.
        let mut now = later;
        let mut longest = 0;
        for i in 0..60u8 {
            match t.begin_at("admin@example.com", ip(110 + i), now) {
                Ok(attempt) => drop(attempt),
                Err(limited) => {
                    longest = longest.max(limited.wait);
                    now += Duration::from_secs(limited.wait);
                }
            }
        }
        assert_eq!(longest, MAX_DELAY.as_secs());
    }

    #[test]
    fn expired_keys_are_pruned_and_made_up_emails_cost_a_small_key() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        let long = "x".repeat(100_000);
        drop(t.begin_at(&long, ip(3), start).unwrap());
        assert_eq!(t.keys(), 3);
        let later = start + WINDOW;
        drop(t.begin_at("recent@example.com", None, later).unwrap());
        assert_eq!(t.keys(), 4);
        t.prune_at(later + Duration::from_secs(1));
        assert_eq!(t.keys(), 1, "only the recent account is left");
    }
}
