//! `spawn_app()`: the real application on 127.0.0.1:0 with a temporary SQLite file and
//! a temporary site root, plus a reqwest client pointed at it.

use std::path::PathBuf;

use baton::config::{Config, LogFormat};
use baton::startup::Application;
use tokio::sync::oneshot;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    pub db: sqlx::SqlitePool,
    pub db_path: PathBuf,
    pub site_root: PathBuf,
    /// Dropping it deletes the database and site files.
    pub _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The CSS the fake site root serves, to check static file serving.
pub const SITE_CSS: &str = "body{color:rebeccapurple}";

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("data").join("baton.db");
    let site_root = dir.path().join("site");
    std::fs::create_dir_all(site_root.join("pkg")).unwrap();
    std::fs::write(site_root.join("pkg/baton.css"), SITE_CSS).unwrap();

    let config = Config {
        command: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", db_path.display()),
        public_url: None,
        site_root: site_root.clone(),
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
    };
    let app = Application::build(&config)
        .await
        .expect("application builds");
    let address = format!("http://{}", app.local_addr());
    let db = app.services().db.clone();

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        db,
        db_path,
        site_root,
        _dir: dir,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Calls a server function the way the browser does (form-encoded POST).
    pub async fn call_server_fn(&self, endpoint: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("server fn POST")
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
