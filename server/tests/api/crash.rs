//! A SIGKILL in the middle of an ingest load from many concurrent Botpress clients:
//! every request that got a 2xx is in the database after a restart, and the outbox
//! picks up where it stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{eventually, replies_received};
use crate::process::{baton, free_port, wait_ready};

const CLIENTS: usize = 16;

/// Starts `baton serve` on `url`, with limits fit for a load test.
pub(crate) async fn start(dir: &std::path::Path, url: &str, port: u16) -> tokio::process::Child {
    start_with(dir, url, port, &dir.join("attachments")).await
}

/// [`start`], keeping files in `attachments`.
pub(crate) async fn start_with(
    dir: &std::path::Path,
    url: &str,
    port: u16,
    attachments: &std::path::Path,
) -> tokio::process::Child {
    let mut child = baton(dir)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            url,
            "--log-level",
            "warn",
            "--webhook-timeout",
            "2",
        ])
        .arg("--site-root")
        .arg(dir)
        .arg("--attachments-dir")
        .arg(attachments)
        // A load test, not a rate-limit test.
        .env("BATON_BOTPRESS_RATE_PER_MINUTE", "1000000")
        .env("BATON_BOTPRESS_BURST", "100000")
        // The fake Botpress listens on 127.0.0.1.
        .env("BATON_ALLOW_PRIVATE_WEBHOOKS", "true")
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    child
}

pub(crate) fn says(ticket: &str, customer: &str, text: &str) -> Value {
    json!({"type": "botSendsMessage", "remoteConversationId": ticket,
           "remoteUserId": customer, "payload": {"type": "text", "text": text}})
}

pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> reqwest::Result<u16> {
    Ok(client.post(url).json(body).send().await?.status().as_u16())
}

#[tokio::test]
async fn sigkill_mid_load_keeps_every_acknowledged_message_and_the_outbox_resumes() {
    let botpress = MockServer::start().await;
    // The bot's webhook is down at first, so agent replies wait in the outbox.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&botpress)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("baton.db").display());
    let (endpoint_token, agent_token) = {
        let db = backend::db::connect(&url).await.unwrap();
        let store = store_sqlite::SqliteStore::new(db.clone());
        let keyed = backend::connections::create(
            &store,
            backend::connections::NewConnection {
                name: "crash".into(),
                webhook_url: format!("{}/hook", botpress.uri()),
                botpress_bot_id: None,
                botpress_token: None,
            },
        )
        .await
        .unwrap();
        let agent = backend::accounts::create_user(
            &store,
            "ana@example.com",
            "Ana",
            backend::users::Role::Agent,
            None,
        )
        .await
        .unwrap();
        let (_, token) = backend::accounts::create_token(&store, agent.id, "crash")
            .await
            .unwrap();
        db.close().await;
        (keyed.endpoint_token, token)
    };
    let port = free_port();
    let mut server = start(dir.path(), &url, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let endpoint = format!("{base}/botpress/{endpoint_token}");
    let client = crate::helpers::http();

    let customer: Value = client
        .post(format!("{endpoint}/createRemoteUser"))
        .json(&json!({"type": "createRemoteUser", "payload": {"name": "Dana", "email": "d@example.org"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = customer["id"].as_str().unwrap().to_owned();
    let mut tickets = Vec::new();
    for i in 0..CLIENTS / 2 {
        let created: Value = client
            .post(format!("{endpoint}/createRemoteConversation"))
            .json(
                &json!({"type": "createRemoteConversation", "payload": {"title": format!("t{i}")}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tickets.push(created["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        post(
            &client,
            &format!("{endpoint}/botSendsMessage"),
            &says(&tickets[0], &customer, "hello")
        )
        .await
        .unwrap(),
        200
    );
    // An agent takes the first ticket and replies; the webhook refuses, so the
    // replies are still in the outbox when the server dies.
    let api = |path: String| format!("{base}/api/v1/tickets/{}{path}", tickets[0]);
    let r = client
        .post(api("/assign".into()))
        .bearer_auth(&agent_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for i in 0..5 {
        let r = client
            .post(api("/messages".into()))
            .bearer_auth(&agent_token)
            .json(&json!({"text": format!("reply {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    // The load: many concurrent clients; every 2xx is noted.
    let messages = format!("{endpoint}/botSendsMessage");
    let load = Load::start(CLIENTS, &[messages], &tickets, &customer);
    // Killed mid-load: once enough has been acknowledged, however long that takes on
    // a busy machine (a fixed 1.5 s once saw only 46 with other tests beside it).
    load.until_acknowledged(80, Duration::from_secs(30)).await;
    server.start_kill().unwrap(); // SIGKILL: no shutdown handler runs.
    server.wait().await.unwrap();
    let acknowledged = load.stop().await;
    assert!(
        acknowledged.len() > 50,
        "the load was real: {}",
        acknowledged.len()
    );

    // The bot's webhook is back; Baton restarts on the same file.
    botpress.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&botpress)
        .await;
    let mut server = start(dir.path(), &url, port).await;

    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("select payload ->> '$.text' from messages where origin = 'customer'")
            .fetch_all(&db)
            .await
            .unwrap();
    none_lost(&acknowledged, stored);

    // The outbox resumes: each reply is delivered once, in order (a send cut off by the
    // kill may have landed, so it is failed for a person to resend instead).
    delivered_once_in_order(&botpress, 30, || async {
        sqlx::query_as(
            "select payload ->> '$.text', delivery from messages where origin = 'agent' order by id",
        )
        .fetch_all(&db)
        .await
        .unwrap()
    })
    .await;
    let _ = server.start_kill();
}

/// Botpress clients posting customer messages as fast as they are answered: client
/// `c` to `urls[c % urls.len()]`, on `tickets[c % tickets.len()]`, text `c{c}-{n}`.
pub(crate) struct Load {
    clients: tokio::task::JoinSet<()>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Load {
    pub(crate) fn start(
        clients: usize,
        urls: &[String],
        tickets: &[String],
        customer: &str,
    ) -> Self {
        let client = crate::helpers::http();
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = tokio::task::JoinSet::new();
        for c in 0..clients {
            let (client, url) = (client.clone(), urls[c % urls.len()].clone());
            let customer = customer.to_owned();
            let ticket = tickets[c % tickets.len()].clone();
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            running.spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let text = format!("c{c}-{n}");
                    n += 1;
                    match post(&client, &url, &says(&ticket, &customer, &text)).await {
                        Ok(200) => acknowledged.lock().unwrap().push(text),
                        Ok(status) => panic!("{text}: {status} while its server was up"),
                        // The server is gone: what was not acknowledged may be lost.
                        Err(_) => return,
                    }
                }
            });
        }
        Self {
            clients: running,
            acknowledged,
            stop,
        }
    }

    /// Stops every client; the texts that got a 2xx.
    /// Waits until `count` writes were acknowledged, or `limit` passed.
    pub(crate) async fn until_acknowledged(&self, count: usize, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.acknowledged.lock().unwrap().len() < count
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        while self.clients.join_next().await.is_some() {}
        self.acknowledged.lock().unwrap().clone()
    }
}

/// Every text that got a 2xx is among the `stored` ones.
pub(crate) fn none_lost(acknowledged: &[String], stored: Vec<String>) {
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|t| !stored.contains(*t))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// Waits up to `secs` for every agent reply to be sent or failed (`replies` reads
/// their text and delivery state, oldest first), then checks that the bot got each
/// sent one exactly once, in order, and that at most one was lost to a kill.
pub(crate) async fn delivered_once_in_order<F, Fut>(botpress: &MockServer, secs: u64, replies: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<(String, Option<String>)>>,
{
    let states = eventually(secs, "every reply to settle", || async {
        let rows = replies().await;
        rows.iter()
            .all(|(_, d)| matches!(d.as_deref(), Some("sent" | "failed")))
            .then_some(rows)
    })
    .await;
    let sent: Vec<&str> = states
        .iter()
        .filter(|(_, d)| d.as_deref() == Some("sent"))
        .map(|(t, _)| t.as_str())
        .collect();
    assert!(sent.len() >= 4, "{states:?}");
    let received = replies_received(botpress).await;
    assert_eq!(received, sent, "once each, in order");
}
