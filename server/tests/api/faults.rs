//! Faults: a webhook outage, a database lock held by someone else, and online backup.
//! (A SIGKILL in the middle of a load is in `crash.rs`.)

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::helpers::{WEBHOOK_TIMEOUT_SECS, by, eventually, live_ticket, spawn_app};

const DOWN: u8 = 0;
const HANGING: u8 = 1;
const UP: u8 = 2;

/// The bot's webhook through an outage: 503, then hanging past Baton's timeout, then
/// healthy. What it accepted while healthy is noted, per message text, and how many
/// replies each failing phase answered is counted.
struct Outage {
    phase: Arc<AtomicU8>,
    delivered: Arc<Mutex<Vec<String>>>,
    failures: Arc<[AtomicUsize; 2]>,
}

impl Respond for Outage {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let phase = self.phase.load(Ordering::SeqCst);
        // Only replies count as tried: the `/agent-assigned` calls of the set-up are
        // sent a little later (once Botpress surely has the session), and one of them
        // hanging must not end the phase before a reply has.
        let reply = request.url.path().ends_with("/message-from-agent");
        if let Some(count) = self.failures.get(usize::from(phase)).filter(|_| reply) {
            count.fetch_add(1, Ordering::SeqCst);
        }
        match phase {
            DOWN => ResponseTemplate::new(503),
            HANGING => {
                ResponseTemplate::new(200).set_delay(Duration::from_secs(WEBHOOK_TIMEOUT_SECS + 2))
            }
            _ => {
                if reply {
                    let body: Value = serde_json::from_slice(&request.body).unwrap();
                    let text = body["payload"]["text"].as_str().unwrap_or("").to_owned();
                    self.delivered.lock().unwrap().push(text);
                }
                ResponseTemplate::new(200)
            }
        }
    }
}

#[tokio::test]
async fn after_a_webhook_outage_every_reply_is_delivered_once_in_order_or_failed_for_resend() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let phase = Arc::new(AtomicU8::new(UP));
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Outage {
            phase: phase.clone(),
            delivered: delivered.clone(),
            failures: failures.clone(),
        })
        .mount(&app.botpress)
        .await;
    // Two agents, each on their own ticket.
    let mut desks = Vec::new();
    for name in ["ana", "ben"] {
        let remote = live_ticket(&app, &conn, name).await;
        let ticket = app.ticket_id(&conn, &remote).await;
        let agent = app.agent(&format!("{name}@example.com"), name).await;
        backend::tickets::assign(&app.services, ticket, agent.id, &by(&app, agent.id).await)
            .await
            .unwrap();
        desks.push((ticket, agent.id, name));
    }
    // The set-up's `/agent-assigned` calls go out before the outage: queued behind
    // them (a ticket's calls go in order), no reply would be tried while they fail.
    eventually(10, "the set-up's calls to be delivered", || async {
        let open: i64 = crate::sql!(
            app,
            sqlx::query_scalar("select count(*) from outbox where state in ('pending', 'sending')"),
            fetch_one
        )
        .unwrap();
        (open == 0).then_some(())
    })
    .await;

    // The outage: agents keep replying every 200 ms through both kinds of failure. Each
    // phase lasts its seconds and, past them, until Baton has tried the webhook during it:
    // the backoff (1 s, 2 s, 4 s) can otherwise put every retry on the far side of a
    // phase that a slower machine started a little late.
    let mut sent = Vec::new();
    for (state, seconds) in [(DOWN, 3), (HANGING, 4)] {
        phase.store(state, Ordering::SeqCst);
        let tried = &failures[usize::from(state)];
        let mut round = 0;
        while round < seconds * 5 || tried.load(Ordering::SeqCst) == 0 {
            assert!(
                round < 150,
                "Baton never called the webhook in phase {state}"
            );
            for (ticket, agent, name) in &desks {
                let text = format!("{name}-{state}-{round}");
                let id = backend::tickets::send_message(
                    &app.services,
                    *ticket,
                    *agent,
                    "text",
                    &json!({ "text": text }),
                )
                .await
                .unwrap();
                sent.push((id, *ticket, *agent, text));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            round += 1;
        }
    }
    phase.store(UP, Ordering::SeqCst);

    // Recovery: every reply settles, as sent or as failed; none stays in flight.
    let states = eventually(60, "every reply to be sent or failed", || async {
        let rows: Vec<(i64, Option<String>, Option<String>)> = crate::sql!(app, sqlx::query_as(
            "select id, delivery, delivery_error from messages where origin = 'agent' order by id",
        ), fetch_all)
        .unwrap();
        rows.iter()
            .all(|(_, d, _)| matches!(d.as_deref(), Some("sent" | "failed")))
            .then_some(rows)
    })
    .await;
    assert_eq!(states.len(), sent.len(), "nothing dropped");
    let failed: Vec<_> = states
        .iter()
        .filter(|(_, d, _)| d.as_deref() == Some("failed"))
        .collect();
    assert!(!failed.is_empty(), "the hanging phase timed some sends out");
    for (_, _, error) in &failed {
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains("may have been delivered"), "{error}");
    }

    // What the healthy webhook received: each sent reply exactly once, and per ticket
    // in the order the agent wrote them.
    let got = delivered.lock().unwrap().clone();
    for (ticket, _, name) in &desks {
        let expected: Vec<&str> = sent
            .iter()
            .filter(|(id, t, _, _)| {
                t == ticket
                    && states
                        .iter()
                        .any(|(s, d, _)| s == id && d.as_deref() == Some("sent"))
            })
            .map(|(_, _, _, text)| text.as_str())
            .collect();
        let received: Vec<&str> = got
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with(&format!("{name}-")))
            .collect();
        assert_eq!(received, expected, "ticket of {name}: once each, in order");
    }

    // A reply that may have landed is the agent's call: resending delivers it.
    let (message, _, _) = failed[0];
    let agent = sent.iter().find(|(id, ..)| id == message).unwrap().2;
    backend::tickets::resend(&app.services, *message, &by(&app, agent).await)
        .await
        .unwrap();
    let text = sent
        .iter()
        .find(|(id, ..)| id == message)
        .unwrap()
        .3
        .clone();
    eventually(10, "the resent reply to arrive", || async {
        delivered.lock().unwrap().contains(&text).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_long_write_lock_gets_503_with_retry_after_and_nothing_is_half_stored() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let remote = live_ticket(&app, &conn, "Locked out").await;
    let customer = app.remote_user(&conn, "Eve", "eve@example.org").await;
    let body = json!({"type": "botSendsMessage", "remoteConversationId": remote,
                      "remoteUserId": customer, "payload": {"type": "text", "text": "still there?"}});

    // Another program holds SQLite's write lock (a long migration, a manual edit…).
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db_path.display()))
        .await
        .unwrap();
    sqlx::query("begin immediate")
        .execute(&mut other)
        .await
        .unwrap();
    let response = app.botpress_call(&conn, "botSendsMessage", &body).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let error: Value = response.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("busy"), "{error}");
    sqlx::query("rollback").execute(&mut other).await.unwrap();

    // Botpress retries; now it lands, exactly once.
    let response = app.botpress_call(&conn, "botSendsMessage", &body).await;
    assert_eq!(response.status(), 200);
    let stored: i64 = crate::sql!(
        app,
        sqlx::query_scalar(
            "select count(*) from messages where payload ->> '$.text' = 'still there?'",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn an_online_backup_restores_every_message() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let remote = live_ticket(&app, &conn, "Backed up").await;
    let customer = app.remote_user(&conn, "Frank", "frank@example.org").await;
    for i in 0..50 {
        app.user_says(
            &conn,
            &remote,
            &customer,
            json!({"type": "text", "text": format!("message {i}")}),
        )
        .await;
    }
    // The server keeps taking messages while the backup runs.
    let writer = {
        let (client, endpoint) = (app.client.clone(), conn.endpoint.clone());
        let (remote, customer) = (remote.clone(), customer.clone());
        tokio::spawn(async move {
            for i in 0..30 {
                let body = json!({"type": "botSendsMessage", "remoteConversationId": remote,
                    "remoteUserId": customer, "payload": {"type": "text", "text": format!("during {i}")}});
                let r = client
                    .post(format!("{endpoint}/botSendsMessage"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        })
    };
    let file = app._dir.path().join("backup.db");
    let file_arg = file.to_str().unwrap();
    let (ok, out, err) = app.cli(&["backup", file_arg], None).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), file_arg);
    writer.await.unwrap();

    // A second backup to the same name is refused, and the first is untouched.
    let before = std::fs::metadata(&file).unwrap().len();
    let (ok, _, err) = app.cli(&["backup", file_arg], None).await;
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), before);

    // Restore as the README says: the copy in place of the database file.
    let restored = app._dir.path().join("restored").join("baton.db");
    std::fs::create_dir_all(restored.parent().unwrap()).unwrap();
    std::fs::copy(&file, &restored).unwrap();
    let db = backend::db::connect(&format!("sqlite://{}", restored.display()))
        .await
        .unwrap();
    let texts: Vec<String> =
        sqlx::query_scalar("select payload ->> '$.text' from messages order by id")
            .fetch_all(&db)
            .await
            .unwrap();
    for i in 0..50 {
        assert!(
            texts.contains(&format!("message {i}")),
            "message {i} restored"
        );
    }
    let integrity: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    // Messages written during the backup are either wholly in it or not at all: the
    // copy is one snapshot, so the "during" ones form an unbroken prefix.
    let during: Vec<&String> = texts.iter().filter(|t| t.starts_with("during")).collect();
    for (i, t) in during.iter().enumerate() {
        assert_eq!(**t, format!("during {i}"));
    }
}
