//! `spawn_app()`: the real application on 127.0.0.1:0 with a temporary SQLite file, a
//! temporary site root and a fake Botpress (webhook and Runtime API) on its own random
//! port, plus a reqwest client pointed at Baton.
//!
//! - `people`: accounts as tests use them, typed: a [`Browser`] (signed in, with its
//!   session cookie) or an [`ApiClient`] (with a personal API token);
//! - `requests`: server functions, REST calls, pages as a signed-in person, the CLI;
//! - `botpress`: a connection to the fake Botpress, and the five calls it makes;
//! - `postgres`: an empty database of the test's own in the run's PostgreSQL cluster.

mod botpress;
mod people;
mod postgres;
mod requests;

pub use botpress::{TestConnection, live_ticket, replies_received};
pub use people::{ApiClient, Browser, by, token};
pub use postgres::postgres_database;
pub use requests::call;

use std::cell::Cell;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use baton::config::{Config, LogFormat};
use baton::startup::Application;

use tokio::sync::oneshot;
use wiremock::MockServer;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    /// SQLite's pool, when the app runs on SQLite (see [`TestApp::db`]).
    sqlite: Option<sqlx::SqlitePool>,
    /// The database the app runs on, as `--database-url` names it.
    pub database_url: String,
    pub db_path: PathBuf,
    pub site_root: PathBuf,
    pub services: backend::Services,
    /// Where `/metrics` is served, when the test turned it on.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The threads its pages render on.
    pub render: baton::render::RenderPool,
    /// The fake Botpress: bots' webhooks live under `/hook/<number>/<name>`, the API
    /// under `/v1`.
    pub botpress: MockServer,
    /// This app's number in the process, unique (see [`TestApp::hook_path`]).
    pub number: u64,
    /// Dropping it deletes the database and site files.
    pub _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _turn: Turn,
}

/// One in-process Baton at a time. Leptos keeps its reactive state process-wide,
/// and using it from two threads at once can hang a render or let one render touch
/// another's disposed signals (leptos-rs/leptos#4673; a loop of the page tests on two
/// threads hung about one run in five, on the code before this change too). Baton
/// itself runs one worker thread, so a real server never does that; but the test
/// harness runs each test on its own thread. So tests that start a server take
/// turns, whatever runs them (`cargo test`, any number of threads).
static TURNS: LazyLock<Arc<tokio::sync::Mutex<()>>> = LazyLock::new(Default::default);

thread_local! {
    /// This thread's test already has the turn (it started a second server).
    static HAS_TURN: Cell<bool> = const { Cell::new(false) };
}

struct Turn(Option<tokio::sync::OwnedMutexGuard<()>>);

impl Turn {
    async fn take() -> Self {
        if HAS_TURN.with(Cell::get) {
            return Turn(None);
        }
        let guard = TURNS.clone().lock_owned().await;
        HAS_TURN.with(|t| t.set(true));
        Turn(Some(guard))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.0.is_some() {
            HAS_TURN.with(|t| t.set(false));
        }
    }
}

/// The password of accounts made by [`TestApp::signed_in`].
pub const PASSWORD: &str = "a long enough password";

/// Webhook timeout in tests: short, so timeout behaviour is quick to observe.
pub const WEBHOOK_TIMEOUT_SECS: u64 = 2;

/// The CSS the fake site root serves, to check static file serving.
pub const SITE_CSS: &str = "body{color:rebeccapurple}";

/// A plain HTTP client, as `reqwest::Client::new()` would be: reqwest is built without
/// a TLS provider of its own (see `backend::http_client`).
pub fn http() -> reqwest::Client {
    backend::http_client::client().build().unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The engine the suite runs on: SQLite, unless `BATON_TEST_ENGINE=postgres` (then
/// each app gets a database of its own in the cluster `cargo xtask test` starts).
pub fn on_postgres() -> bool {
    std::env::var("BATON_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

/// `spawn_app` with some settings changed first.
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let turn = Turn::take().await;
    let botpress = MockServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("data").join("baton.db");
    let site_root = dir.path().join("site");
    std::fs::create_dir_all(site_root.join("pkg")).unwrap();
    std::fs::write(site_root.join("pkg/baton.css"), SITE_CSS).unwrap();

    let database_url = if on_postgres() {
        postgres_database().await
    } else {
        format!("sqlite://{}", db_path.display())
    };
    let mut config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url,
        public_url: None,
        site_root: site_root.clone(),
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
        botpress_api_url: botpress.uri(),
        webhook_timeout: WEBHOOK_TIMEOUT_SECS,
        abandon_after_hours: 24,
        // Beside the SQLite file, as by default; there too on PostgreSQL.
        attachments_dir: Some(dir.path().join("data").join("attachments")),
        attachment_max_mb: 1,
        attachment_types: backend::attachments::DEFAULT_TYPES
            .split(',')
            .map(str::to_owned)
            .collect(),
        botpress_rate_per_minute: 1200,
        botpress_burst: 600,
        trusted_proxies: Vec::new(),
        header_timeout: 10,
        idle_timeout: 60,
        max_connections: 4096,
        metrics_addr: None,
        // Two, whatever the machine: renders then really run on several threads.
        render_threads: 2,
        // The fake Botpress listens on 127.0.0.1.
        allow_private_webhooks: true,
    };
    change(&mut config);
    let database_url = config.database_url.clone();
    let app = Application::build(&config)
        .await
        .expect("application builds");
    let address = format!("http://{}", app.local_addr());
    let sqlite = match &app.services().db {
        backend::db::Database::Sqlite(pool) => Some(pool.clone()),
        backend::db::Database::Postgres(_) => None,
    };
    let services = app.services().clone();
    let metrics_addr = app.metrics_addr();
    let render = app.render_pool().clone();

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let client = backend::http_client::client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    static APPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    TestApp {
        number: APPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        address,
        client,
        sqlite,
        database_url,
        db_path,
        site_root,
        services,
        metrics_addr,
        render,
        botpress,
        _dir: dir,
        stop: Some(stop),
        server: Some(server),
        _turn: turn,
    }
}

/// Runs a test's own query on the app's database, whichever the engine: `$q` is a
/// sqlx query in SQL both engines accept (placeholders `$1`, `$2`, …, which SQLite
/// reads too), `$run` how to run it (`fetch_one`, `fetch_all`, `execute`, …). The
/// query is written once and typed for each engine.
#[macro_export]
macro_rules! sql {
    // Each engine has its own result type: what a test wants of it is the count.
    ($app:expr, $q:expr, execute) => {
        match &$app.services.db {
            backend::db::Database::Sqlite(db) => $q.execute(db).await.map(|r| r.rows_affected()),
            backend::db::Database::Postgres(db) => $q.execute(db).await.map(|r| r.rows_affected()),
        }
    };
    ($app:expr, $q:expr, $run:ident) => {
        match &$app.services.db {
            backend::db::Database::Sqlite(db) => $q.$run(db).await,
            backend::db::Database::Postgres(db) => $q.$run(db).await,
        }
    };
}

impl TestApp {
    /// The SQLite database, for a test that reads or writes it with SQL of its own.
    /// Such a test runs on SQLite only (`xtask`'s PostgreSQL pass leaves it out);
    /// one that goes through [`TestApp::store`] and HTTP runs on both engines.
    pub fn db(&self) -> &sqlx::SqlitePool {
        self.sqlite
            .as_ref()
            .expect("this test reads SQLite directly, so it runs on SQLite only")
    }

    /// The database through the persistence interface, as the domain takes it.
    pub fn store(&self) -> &dyn store::Store {
        &*self.services.store
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET as a browser would ask for a page (`Accept: text/html`).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html,*/*")
            .send()
            .await
            .expect("GET")
    }

    /// Stops the server and its workers, keeping its files: what an admin has after
    /// stopping Baton. (Stopping closes the server's pool; `db` is reopened on the file.)
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.server.take() {
            handle.await.expect("server task panicked").unwrap();
        }
        if self.sqlite.is_some() {
            self.sqlite = Some(
                backend::db::connect(&format!("sqlite://{}", self.db_path.display()))
                    .await
                    .unwrap(),
            );
        }
    }

    /// Stops the server the way a signal would and waits for it to finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await.expect("server task panicked"),
            None => Ok(()),
        }
    }
}

/// Polls `check` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
