//! `spawn_app()`: the real application on 127.0.0.1:0 with a temporary SQLite file, a
//! temporary site root and a fake Botpress (webhook and Runtime API) on its own random
//! port, plus a reqwest client pointed at Baton.

use std::cell::Cell;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use baton::config::{Config, LogFormat};
use baton::startup::Application;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use wiremock::MockServer;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    pub db: sqlx::SqlitePool,
    pub db_path: PathBuf,
    pub site_root: PathBuf,
    pub services: backend::Services,
    /// The fake Botpress: bots' webhooks live under `/hook/<name>`, the API under `/v1`.
    pub botpress: MockServer,
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

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
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

    let mut config = Config {
        command: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", db_path.display()),
        public_url: None,
        site_root: site_root.clone(),
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
        botpress_api_url: botpress.uri(),
        webhook_timeout: WEBHOOK_TIMEOUT_SECS,
        abandon_after_hours: 24,
        attachments_dir: None,
        attachment_max_mb: 1,
        attachment_types: backend::attachments::DEFAULT_TYPES
            .split(',')
            .map(str::to_owned)
            .collect(),
        botpress_rate_per_minute: 1200,
        botpress_burst: 600,
        trusted_proxies: Vec::new(),
        header_timeout: 10,
        max_connections: 4096,
        // The fake Botpress listens on 127.0.0.1.
        allow_private_webhooks: true,
    };
    change(&mut config);
    let app = Application::build(&config)
        .await
        .expect("application builds");
    let address = format!("http://{}", app.local_addr());
    let db = app.services().db.clone();
    let services = app.services().clone();

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
        services,
        botpress,
        _dir: dir,
        stop: Some(stop),
        server: Some(server),
        _turn: turn,
    }
}

impl TestApp {
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

    /// Calls a server function the way the browser does (form-encoded POST), with an
    /// optional session cookie.
    pub async fn call_server_fn(&self, endpoint: &str, cookie: Option<&str>) -> reqwest::Response {
        self.call_fn(endpoint, cookie, "").await
    }

    /// Calls a server function with form fields and returns the status and JSON body.
    pub async fn call_form(
        &self,
        endpoint: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("cookie", cookie)
            .form(fields)
            .send()
            .await
            .expect("server fn POST");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// [`Self::call_server_fn`] with a form-encoded body (`a=1&b=2`).
    pub async fn call_fn(
        &self,
        endpoint: &str,
        cookie: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("cookie", cookie.unwrap_or_default())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
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

/// A Botpress connection created for a test.
pub struct TestConnection {
    pub id: i64,
    /// `http://127.0.0.1:<port>/botpress/<token>`: what the bot owner pastes into Botpress.
    pub endpoint: String,
    pub token: String,
    /// Path prefix of this bot's webhook on the fake Botpress, e.g. `/hook/support`.
    pub webhook_path: String,
}

impl TestApp {
    /// A connection whose webhook is the fake Botpress; with `api`, also a bot id and
    /// access token for the fake Runtime API.
    pub async fn connection(&self, name: &str, api: bool) -> TestConnection {
        let webhook_path = format!("/hook/{name}");
        let keyed = backend::connections::create(
            &self.db,
            backend::connections::NewConnection {
                name: name.into(),
                webhook_url: format!("{}{webhook_path}", self.botpress.uri()),
                botpress_bot_id: api.then(|| "bot_test".to_owned()),
                botpress_token: api.then(|| "bp_pat_test".to_owned()),
            },
        )
        .await
        .unwrap();
        TestConnection {
            id: keyed.connection.id,
            endpoint: keyed.endpoint_url(&self.address),
            token: keyed.endpoint_token,
            webhook_path,
        }
    }

    /// POSTs a JSON body to one of the five Botpress routes of `conn`.
    pub async fn botpress_call(
        &self,
        conn: &TestConnection,
        route: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/{route}", conn.endpoint))
            .json(body)
            .send()
            .await
            .expect("botpress call")
    }

    /// `/createRemoteConversation` with a title, returning the ticket's remote id.
    pub async fn escalate(&self, conn: &TestConnection, title: &str) -> String {
        let response = self
            .botpress_call(
                conn,
                "createRemoteConversation",
                &serde_json::json!({"type": "createRemoteConversation",
                                    "payload": {"title": title, "description": "from a test"}}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("id is a string").to_owned()
    }

    /// `/createRemoteUser`, returning the customer's remote id.
    pub async fn remote_user(&self, conn: &TestConnection, name: &str, email: &str) -> String {
        let response = self
            .botpress_call(
                conn,
                "createRemoteUser",
                &serde_json::json!({"type": "createRemoteUser",
                                    "payload": {"role": "end-user", "name": name, "email": email}}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("id is a string").to_owned()
    }

    /// `/botSendsMessage` with `payload` from `remote_user` (a customer id or "BOT").
    pub async fn user_says(
        &self,
        conn: &TestConnection,
        ticket: &str,
        remote_user: &str,
        payload: Value,
    ) {
        let response = self
            .botpress_call(
                conn,
                "botSendsMessage",
                &serde_json::json!({"type": "botSendsMessage", "remoteConversationId": ticket,
                                    "remoteUserId": remote_user, "payload": payload}),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The ticket row id for a remote id.
    pub async fn ticket_id(&self, conn: &TestConnection, remote_id: &str) -> i64 {
        sqlx::query_scalar("select id from tickets where connection_id = ? and remote_id = ?")
            .bind(conn.id)
            .bind(remote_id)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// The HITL plugin's default "user ended the session" notice, sent as `BOT`.
    pub async fn end_notice(&self, conn: &TestConnection, ticket: &str) {
        let text = "( The user has ended the session. )";
        self.user_says(
            conn,
            ticket,
            "BOT",
            serde_json::json!({"type": "text", "text": text}),
        )
        .await;
    }

    /// `/closeRemoteTicket` for a Botpress conversation id.
    pub async fn close_remote(
        &self,
        conn: &TestConnection,
        conversation: &str,
    ) -> reqwest::Response {
        self.botpress_call(
            conn,
            "closeRemoteTicket",
            &serde_json::json!({"type": "closeRemoteTicket",
                                "payload": {"botpressConversationId": conversation}}),
        )
        .await
    }

    /// Runs the `baton` binary against this app's database (as an admin would while
    /// the server runs), feeding `stdin`. Returns (success, stdout, stderr).
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(args)
            .arg("--database-url")
            .arg(format!("sqlite://{}", self.db_path.display()))
            .args(["--public-url", &self.address])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).await.unwrap();
        }
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// Creates an account with [`PASSWORD`], signs it in, and returns the `Cookie`
    /// header value of its session.
    pub async fn signed_in(&self, email: &str, role: backend::users::Role) -> String {
        backend::accounts::create_user(&self.db, email, "Someone", role, Some(PASSWORD.into()))
            .await
            .unwrap();
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        set_cookie.split(';').next().unwrap().to_owned()
    }

    /// Posts the sign-in form without a cookie.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("sign-in POST")
    }

    /// GET with a session cookie.
    pub async fn get_as(&self, cookie: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html,*/*")
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET")
    }

    pub async fn agent(&self, email: &str, name: &str) -> backend::users::User {
        backend::users::create(&self.db, email, name, backend::users::Role::Agent)
            .await
            .unwrap()
    }

    /// Requests the fake Botpress received on `path`, bodies parsed as JSON.
    /// Makes every bot webhook answer 200.
    pub async fn accept_webhooks(&self) {
        use wiremock::matchers::{method, path_regex};
        wiremock::Mock::given(method("POST"))
            .and(path_regex("^/hook/"))
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&self.botpress)
            .await;
    }

    pub async fn webhook_calls(&self, path: &str) -> Vec<Value> {
        self.botpress
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

/// The texts of the agent replies `botpress` received, every attempt, in arrival order.
pub async fn replies_received(botpress: &MockServer) -> Vec<String> {
    botpress
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/message-from-agent"))
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            body["payload"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
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

/// A token for a fresh account.
pub async fn token(app: &TestApp, email: &str, role: backend::users::Role) -> (String, String) {
    let user = backend::accounts::create_user(&app.db, email, email, role, None)
        .await
        .unwrap();
    let (_, token) = backend::accounts::create_token(&app.db, user.id, "rest")
        .await
        .unwrap();
    (token, user.public_id)
}

/// A ticket whose customer has written (so the Botpress session is live).
pub async fn live_ticket(app: &TestApp, conn: &TestConnection, title: &str) -> String {
    let customer = app.remote_user(conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(conn, title).await;
    app.user_says(
        conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "I need a human", "userId": "user_1"}),
    )
    .await;
    remote
}

/// A REST call with a bearer token; the status and the JSON body (null if none).
pub async fn call(
    app: &TestApp,
    token: &str,
    verb: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = app.url(path);
    let mut request = match verb {
        "GET" => app.client.get(url),
        _ => app.client.post(url),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The account `user` acting on tickets, as the inbox does (without an address).
pub async fn by(app: &TestApp, user: i64) -> backend::tickets::By {
    let user = backend::users::get(&app.db, user).await.unwrap();
    backend::tickets::By::new(&user, None)
}
