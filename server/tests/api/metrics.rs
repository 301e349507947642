//! `/metrics`: off unless an address is set, never on the public one, and the
//! numbers follow what happened.

use std::collections::HashMap;
use std::net::SocketAddr;

use backend::users::Role;
use serde_json::json;

use crate::helpers::{call, eventually, live_ticket, spawn_app, spawn_app_with, token};
use crate::realtime::{Auth, open};

/// Every sample of a scrape, keyed by its series (`name{labels}`).
async fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let response = crate::helpers::http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

/// The value of one series, 0 when it has not appeared yet.
fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_public_address() {
    let app = spawn_app().await;
    assert_eq!(app.metrics_addr, None);
    assert_eq!(app.get("/metrics").await.status(), 404);

    let app = spawn_app_with(|c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    assert!(app.metrics_addr.is_some());
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn the_numbers_follow_the_traffic() {
    let app = spawn_app_with(|c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = app.metrics_addr.unwrap();
    let before = scrape(addr).await;
    assert_eq!(value(&before, "baton_tickets_queued"), 0.0);
    assert_eq!(value(&before, "baton_websockets_open"), 0.0);
    assert_eq!(value(&before, "baton_outbox_pending"), 0.0);
    // Counted for the whole process, and other tests provoke busy errors: only its
    // presence is checked here.
    assert!(before.contains_key("baton_sqlite_busy_errors_total"));

    app.accept_webhooks().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let remote = live_ticket(&app, &conn, "Where is my parcel?").await;
    let ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    assert_eq!(app.get("/login").await.status(), 200);
    assert_eq!(app.get("/no-such-page").await.status(), 404);

    let during = scrape(addr).await;
    assert_eq!(value(&during, "baton_tickets_queued"), 1.0);
    assert!(value(&during, "baton_tickets_oldest_wait_seconds") > 0.0);
    assert_eq!(value(&during, "baton_websockets_open"), 1.0);
    for route in [
        "createRemoteUser",
        "createRemoteConversation",
        "botSendsMessage",
    ] {
        assert_eq!(
            value(
                &during,
                &format!(r#"baton_botpress_requests_total{{route="{route}",status="200"}}"#)
            ),
            1.0,
            "{route}"
        );
    }
    assert_eq!(
        value(
            &during,
            r#"baton_http_requests_total{method="GET",route="/login",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &during,
            r#"baton_http_requests_total{method="GET",route="other",status="404"}"#
        ),
        1.0
    );
    // The Botpress token is a secret: it never becomes a label.
    let token_in_labels = during.keys().any(|k| k.contains(&conn.token));
    assert!(!token_in_labels);
    assert!(value(&during, "baton_writer_batch_writes_count") >= 3.0);
    assert!(value(&during, "baton_writer_batch_writes_sum") >= 3.0);
    assert!(value(&during, "baton_writer_commit_duration_seconds_sum") > 0.0);

    // Taking the ticket and replying calls the bot twice, through the outbox.
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/messages"),
        Some(json!({"text": "On its way!"})),
    )
    .await;
    assert_eq!(status, 201);
    let after = eventually(5, "both webhook calls are counted", || async {
        let now = scrape(addr).await;
        let sent = |route: &str| {
            value(
                &now,
                &format!(r#"baton_webhook_calls_total{{route="{route}",outcome="sent"}}"#),
            )
        };
        // The call is counted when it returns, and its row marked sent just after.
        let recorded = value(&now, "baton_outbox_pending") == 0.0;
        (sent("agent-assigned") == 1.0 && sent("message-from-agent") == 1.0 && recorded)
            .then_some(now)
    })
    .await;
    assert_eq!(value(&after, "baton_tickets_queued"), 0.0);
    assert_eq!(value(&after, "baton_tickets_oldest_wait_seconds"), 0.0);
    assert_eq!(
        value(&after, "baton_outbox_oldest_pending_age_seconds"),
        0.0
    );
    assert_eq!(
        value(
            &after,
            r#"baton_http_requests_total{method="POST",route="/api/v1/tickets/{id}/messages",status="201"}"#
        ),
        1.0
    );

    drop(ws);
    eventually(5, "the closed socket is no longer counted", || async {
        (value(&scrape(addr).await, "baton_websockets_open") == 0.0).then_some(())
    })
    .await;
}

/// The HTTP metrics' series: request counts and latency histograms.
fn http_series(samples: &HashMap<String, f64>) -> usize {
    samples
        .keys()
        .filter(|k| k.starts_with("baton_http_request"))
        .count()
}

#[tokio::test]
async fn invented_methods_add_no_series() {
    let app = spawn_app_with(|c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = app.metrics_addr.unwrap();
    let send = |method: String| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.client.request(method, app.url("/healthz")).send()
    };
    // One invented method first, so the series all of them share exist before counting.
    send("X0".to_owned()).await.unwrap();
    let before = scrape(addr).await;

    for i in 1..=50 {
        send(format!("X{i}")).await.unwrap();
    }
    let after = scrape(addr).await;
    assert_eq!(http_series(&after), http_series(&before));
    assert!(!after.keys().any(|k| k.contains(r#"method="X"#)));
    let other: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with(r#"baton_http_requests_total{method="OTHER","#))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(other, 51.0);
}
