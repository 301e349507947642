//! No secret reaches a browser or an API client: the SSR HTML of every page, every
//! server-function, REST and websocket answer an agent or admin can get contain no
//! webhook URL, Botpress access token, endpoint token or password hash.
//!
//! The exceptions are deliberate and one-off: an admin who creates a connection,
//! rotates its token, or asks to see its endpoint URL gets that endpoint token, to
//! paste into Botpress. Those three calls are left out below and nothing else is.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::authz::{PAGES, SERVER_FNS};
use crate::helpers::{TestApp, live_ticket, spawn_app};
use crate::realtime::{Auth, open};

/// Server functions whose purpose is to hand the admin an endpoint token.
const REVEAL_ENDPOINT: &[&str] = &[
    "admin/connections/create",
    "admin/connections/rotate",
    "admin/connections/endpoint",
];

struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn check(&self, what: &str, body: &str) {
        for (name, secret) in &self.0 {
            assert!(
                !body.contains(secret.as_str()),
                "{what} contains the {name}"
            );
        }
    }
}

async fn ws_frames(
    app: &TestApp,
    token: &str,
    during: impl std::future::Future<Output = ()>,
) -> Vec<String> {
    let mut ws = open(app, Auth::Bearer(token), None, None).await.unwrap();
    let mut frames = Vec::new();
    during.await;
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(1500), ws.next()).await
    {
        frames.push(frame.to_string());
    }
    frames
}

#[tokio::test]
async fn no_page_or_answer_carries_a_secret() {
    use backend::users::Role;
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("support", true).await;
    let remote = live_ticket(&app, &conn, "Secretive").await;
    backend::alerts::set(
        app.store(),
        5,
        Some("https://chat.example.org/hooks/ALERT-SECRET"),
    )
    .await
    .unwrap();
    let agent = app.signed_in("agent@example.com", Role::Agent).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let agent_token = crate::helpers::token(&app, "bot-agent@example.com", Role::Agent)
        .await
        .token;
    let admin_token = crate::helpers::token(&app, "bot-admin@example.com", Role::Admin)
        .await
        .token;

    let mut secrets = vec![
        ("endpoint token", conn.token.clone()),
        ("Botpress access token", "bp_pat_test".to_owned()),
        ("webhook URL", app.botpress.uri() + &conn.webhook_path),
        ("webhook path", conn.webhook_path.clone()),
        ("alert webhook URL", "ALERT-SECRET".to_owned()),
        ("password hash", "$argon2".to_owned()),
    ];
    let hashes: Vec<String> = crate::sql!(
        app,
        sqlx::query_scalar("select password_hash from users where password_hash is not null"),
        fetch_all
    )
    .unwrap();
    assert!(!hashes.is_empty());
    for hash in hashes {
        // The salt and digest parts, whatever their encoding around them.
        for part in hash.split('$').filter(|p| p.len() > 16) {
            secrets.push(("password hash", part.to_owned()));
        }
    }
    let secrets = Secrets(secrets);

    for (who, cookie) in [("agent", &agent), ("admin", &admin)] {
        for &(path, _) in PAGES {
            let path = path.replace("{id}", &remote);
            let body = app.get_as(cookie, &path).await.text().await.unwrap();
            secrets.check(&format!("page {path} as {who}"), &body);
        }
        for &(endpoint, _, body) in SERVER_FNS {
            if endpoint == "auth/logout" || (who == "admin" && REVEAL_ENDPOINT.contains(&endpoint))
            {
                continue;
            }
            let body = body.replace("tkt_none", &remote);
            let response = app.call_fn(endpoint, Some(cookie), &body).await;
            let text = response.text().await.unwrap();
            secrets.check(&format!("server fn {endpoint} as {who}"), &text);
        }
    }
    for (who, token) in [("agent", &agent_token), ("admin", &admin_token)] {
        for path in [
            "/api/v1/me".to_owned(),
            "/api/v1/tickets".to_owned(),
            "/api/v1/tickets?status=closed".to_owned(),
            format!("/api/v1/tickets/{remote}"),
            "/api/v1/agents".to_owned(),
            "/api/v1/audit".to_owned(),
        ] {
            let (_, body) = crate::helpers::call(&app, token, "GET", &path, None).await;
            secrets.check(&format!("GET {path} as {who}"), &body.to_string());
        }
    }
    // Live events while a ticket is created, written in, taken and answered.
    let frames = ws_frames(&app, &agent_token, async {
        let other = live_ticket(&app, &conn, "Another").await;
        let (status, _) = crate::helpers::call(
            &app,
            &agent_token,
            "POST",
            &format!("/api/v1/tickets/{other}/assign"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = crate::helpers::call(
            &app,
            &agent_token,
            "POST",
            &format!("/api/v1/tickets/{other}/messages"),
            Some(json!({"text": "hello"})),
        )
        .await;
        assert_eq!(status, 201);
    })
    .await;
    assert!(frames.len() >= 4, "{frames:?}");
    for frame in &frames {
        secrets.check("a websocket frame", frame);
    }
}

/// What the server logs, captured for one test (the server runs on the test's thread).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn failing_webhooks_do_not_write_their_urls_into_the_log() {
    use crate::helpers::eventually;
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    // Nothing listens on port 9; both webhooks fail to connect.
    const ALERT: &str = "http://127.0.0.1:9/hooks/ALERT-SECRET-PATH";
    const BOT: &str = "http://127.0.0.1:9/hooks/BOT-SECRET-PATH";
    backend::alerts::set(app.store(), 5, Some(ALERT))
        .await
        .unwrap();
    let keyed = backend::connections::create(
        app.store(),
        backend::connections::NewConnection {
            name: "dead".into(),
            webhook_url: BOT.into(),
            botpress_bot_id: None,
            botpress_token: None,
        },
    )
    .await
    .unwrap();
    let conn = crate::helpers::TestConnection {
        id: keyed.connection.id,
        endpoint: keyed.endpoint_url(&app.address),
        token: keyed.endpoint_token,
        webhook_path: "/hooks/BOT-SECRET-PATH".into(),
    };
    let remote = live_ticket(&app, &conn, "Logged").await;
    let token = crate::helpers::token(&app, "agent@example.com", backend::users::Role::Agent)
        .await
        .token;
    let (status, _) = crate::helpers::call(
        &app,
        &token,
        "POST",
        &format!("/api/v1/tickets/{remote}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);

    eventually(10, "both failures in the log", || {
        let text = logs.text();
        async move {
            (text.contains("cannot reach the alert webhook")
                && text.contains("webhook call will be retried"))
            .then_some(())
        }
    })
    .await;
    let text = logs.text();
    for secret in ["ALERT-SECRET-PATH", "BOT-SECRET-PATH"] {
        assert!(!text.contains(secret), "the log shows {secret}:\n{text}");
    }
}
