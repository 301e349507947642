//! Baton's domain and persistence layer.
//!
//! Everything that touches the database lives here, so that the HTTP handlers in
//! `server`, the server functions in `app` and the CLI share one implementation, and
//! so that `cargo sqlx prepare` sees every query without Leptos feature flags.
//!
//! - `db`: opening SQLite, migrations, write transactions, the group-commit writer;
//! - `auth`: who is calling (session or API token), for every entry point;
//! - `accounts`, `users`: people, passwords, tokens; `audit`: the audit log;
//! - `canned`: canned replies, shared and personal; `labels`: labels on tickets;
//! - `customers`: the customer page (details, tickets, notes, Botpress attributes);
//! - `tickets`: the lifecycle, the commands people give, the views, read state;
//! - `routing`: teams, who may see which tickets, automatic assignment by capacity;
//! - `reports`: what happened in a period, per connection, team and agent, with charts;
//! - `csv`: the one CSV writer (ticket export, report tables), formula-safe;
//! - `search`: full-text search over customers, tickets, messages and notes;
//! - `connections`, `botpress`: the bots, the five inbound endpoints, close mapping,
//!   Botpress API sync;
//! - `outbox`: durable, ordered delivery of typed webhook calls to the bots;
//! - `media`: copies of the media customers send, so pages load them from Baton;
//! - `files`: where those files' bytes live (a folder, or PostgreSQL's database);
//! - `effects`: what a committed write caused (events, wake-ups), applied in one place;
//! - `realtime`: numbered change events for websockets, presence, revocation; with
//!   replicas (PostgreSQL), shared through the database (`realtime::shared`,
//!   `realtime::fleet`);
//! - `jobs`: background jobs that run on one process at a time, by lease;
//! - `metrics`: counters and gauges for `/metrics` (Prometheus).
//!
//! **The `_in` suffix.** A function named `…_in` runs inside its caller's write
//! transaction: it takes `&mut SqliteConnection` (a transaction or a writer
//! savepoint) and never commits. What it causes beyond the database (an event, a
//! worker to wake) goes into the caller's [`effects::Effects`], applied after the
//! commit.

pub mod accounts;
pub mod alerts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod botpress;
pub mod canned;
pub mod clock;
pub mod connections;
pub mod csv;
pub mod customers;
pub mod db;
pub mod effects;
pub mod error;
pub mod files;
pub mod http_client;
pub mod ids;
pub mod jobs;
pub mod labels;
pub mod markdown;
pub mod media;
pub mod metrics;
pub mod outbox;
pub mod realtime;
pub mod reports;
pub mod routing;
pub mod search;
pub mod status;
pub mod tickets;
pub mod users;
pub mod webhook_guard;

use std::sync::Arc;
use std::time::Duration;

pub use error::{Error, Result};
pub use sqlx::SqlitePool;
use tokio_util::sync::CancellationToken;

/// Settings the domain needs from the server's configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The address people and Botpress reach Baton at (links are built on it).
    pub public_url: String,
    /// Base URL of the Botpress Runtime API (`https://api.botpress.cloud`).
    pub botpress_api_url: String,
    /// How long a webhook call may take before it counts as "may have landed".
    pub webhook_timeout: Duration,
    /// How long a queued ticket without a single message stays open.
    pub abandon_after: Duration,
    /// Where agents' attachments are kept, and what is accepted.
    pub attachments: attachments::Limits,
    /// Webhooks may go to loopback and private addresses (see `webhook_guard`).
    pub allow_private_webhooks: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:3000".into(),
            botpress_api_url: "https://api.botpress.cloud".into(),
            webhook_timeout: Duration::from_secs(10),
            abandon_after: Duration::from_secs(24 * 3600),
            attachments: attachments::Limits::default(),
            allow_private_webhooks: false,
        }
    }
}

/// Shared handles that every request path needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Services {
    /// The database, of either engine: its pool, for what is the engine's own (WAL
    /// checkpoints, sessions, closing).
    pub db: db::Database,
    /// The same database through the persistence interface: everything else.
    pub store: Arc<dyn store::Store>,
    /// The Botpress endpoints' writes: group commit on SQLite, one transaction each
    /// on PostgreSQL.
    pub writer: db::writer::Writer,
    pub settings: Arc<Settings>,
    /// Wake the outbox, media and Botpress sync workers (see `effects`).
    pub wakers: effects::Wakers,
    pub api: botpress::api::Api,
    /// Sign-in limits: in memory, or in the database among replicas.
    pub sign_ins: accounts::throttle::Limits,
    pub last_seen: Arc<accounts::people::LastSeen>,
    /// When each connection's `last_inbound_at` was last written (once a second).
    last_contact: Arc<clock::Every>,
    pub hub: realtime::Hub,
    /// Shared: `Services` is cloned per request, and the instruments are many.
    pub metrics: Arc<metrics::Metrics>,
    /// Files being received at once (see `attachments::MAX_UPLOADS`): each may hold
    /// a connection and disk space until it ends.
    pub uploads: Arc<tokio::sync::Semaphore>,
    webhook_client: reqwest::Client,
    /// This process among the replicas serving the database: who holds a lease.
    replica: Arc<str>,
}

impl Services {
    pub fn new(db: impl Into<db::Database>, settings: Settings) -> Result<Self> {
        let db = db.into();
        let http_error = |e: reqwest::Error| Error::Internal(format!("HTTP client: {e}"));
        let api = botpress::api::Api::new(&settings.botpress_api_url, Duration::from_secs(10))
            .map_err(http_error)?;
        // No redirects: a redirected POST may be replayed as a GET without its body.
        // Connecting must fail before the whole call times out: a call that never
        // connected surely did not arrive and is retried, a timed-out one may have.
        let connect_timeout = (settings.webhook_timeout / 2).min(Duration::from_secs(5));
        let mut webhook_client = crate::http_client::client()
            .user_agent(concat!("Baton/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if !settings.allow_private_webhooks {
            webhook_client = webhook_client.dns_resolver(webhook_guard::PublicOnly);
        }
        let webhook_client = webhook_client.build().map_err(http_error)?;
        let metrics = Arc::new(metrics::Metrics::new());
        let store = db.store();
        let writer = match &db {
            db::Database::Sqlite(pool) => db::writer::Writer::new(pool.clone(), metrics.clone()),
            db::Database::Postgres(pool) => {
                db::writer::Writer::postgres(pool.clone(), metrics.clone())
            }
        };
        Ok(Self {
            writer,
            metrics,
            store,
            db,
            settings: Arc::new(settings),
            wakers: effects::Wakers::default(),
            api,
            sign_ins: accounts::throttle::Limits::Memory(Arc::default()),
            last_seen: Arc::default(),
            last_contact: Arc::new(clock::Every::new(1000)),
            hub: realtime::Hub::new()?,
            uploads: Arc::new(tokio::sync::Semaphore::new(attachments::MAX_UPLOADS)),
            webhook_client,
            replica: ids::new_id("rpl_")?.into(),
        })
    }

    /// This process's name among the replicas (random, new at every start).
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// On PostgreSQL, where several replicas may serve the database, shares through
    /// it what one process would keep in memory: realtime events (numbered in the
    /// events table, which every replica reads, under the installation's epoch) and
    /// the sign-in limits. Call once at start, before serving and before
    /// [`Services::spawn_workers`].
    pub async fn share_with_replicas(&mut self) -> Result<()> {
        if !self.db.is_postgres() {
            return Ok(());
        }
        let stored = {
            let mut tx = self.store.autocommit().await?;
            tx.setting_get(db::transfer::INSTALLATION).await?
        };
        let installation = stored
            .and_then(|json| serde_json::from_str::<String>(&json).ok())
            .ok_or_else(|| Error::Internal("the database has no installation id".into()))?;
        let epoch: String = installation.chars().take(12).collect();
        let hub = realtime::Hub::shared(&epoch);
        realtime::shared::start(&*self.store, &hub).await?;
        self.hub = hub;
        self.sign_ins = accounts::throttle::Limits::Shared(self.store.clone());
        Ok(())
    }

    /// An absolute URL for a path of ours (`/welcome?token=…`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url.trim_end_matches('/'))
    }

    /// Starts the outbox, Botpress sync, housekeeping, socket revocation and WAL
    /// checkpoint workers;
    /// they stop when `cancel` fires.
    pub fn spawn_workers(&self, cancel: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let mut workers = vec![
            tokio::spawn(outbox::worker::run(
                self.clone(),
                self.webhook_client.clone(),
                cancel.clone(),
            )),
            tokio::spawn(botpress::sync::run(self.clone(), cancel.clone())),
            tokio::spawn(tickets::housekeeping(self.clone(), cancel.clone())),
            tokio::spawn(routing::auto::run(self.clone(), cancel.clone())),
            tokio::spawn(realtime::revocation::run(self.clone(), cancel.clone())),
            tokio::spawn(search::run(self.store.clone(), cancel.clone())),
            tokio::spawn(media::run(
                self.clone(),
                self.webhook_client.clone(),
                cancel.clone(),
            )),
        ];
        workers.push(match &self.sign_ins {
            accounts::throttle::Limits::Memory(throttle) => tokio::spawn(
                accounts::throttle::pruning(throttle.clone(), cancel.clone()),
            ),
            accounts::throttle::Limits::Shared(_) => tokio::spawn(
                accounts::throttle::pruning_shared(self.clone(), cancel.clone()),
            ),
        });
        match &self.db {
            db::Database::Sqlite(pool) => {
                workers.push(tokio::spawn(db::checkpoints(pool.clone(), cancel.clone())));
            }
            db::Database::Postgres(pool) => {
                if let Some(appends) = self.hub.take_appends() {
                    workers.push(tokio::spawn(realtime::shared::append(
                        self.store.clone(),
                        appends,
                        cancel.clone(),
                    )));
                    workers.push(tokio::spawn(realtime::shared::relay(
                        pool.clone(),
                        self.store.clone(),
                        self.hub.clone(),
                        cancel.clone(),
                    )));
                    workers.push(tokio::spawn(realtime::shared::prune(
                        self.clone(),
                        cancel.clone(),
                    )));
                    workers.push(tokio::spawn(realtime::fleet::beat(
                        self.clone(),
                        cancel.clone(),
                    )));
                }
                if let Some(changed) = self.hub.take_here() {
                    workers.push(tokio::spawn(realtime::here_shared::run(
                        pool.clone(),
                        self.clone(),
                        changed,
                        cancel.clone(),
                    )));
                }
            }
        }
        workers
    }
}

/// At start-up, before serving: availability a stopped process left open ends at the
/// agent's last request (see `reports::availability`).
pub async fn close_stale_availability(store: &dyn store::Store) {
    match reports::availability::close_stale(store).await {
        Ok(0) => {}
        Ok(closed) => tracing::info!(closed, "closed availability left open by the last run"),
        Err(e) => tracing::warn!(error = ?e, "cannot close stale availability"),
    }
}
