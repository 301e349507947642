//! Files agents send: limits, the message Botpress receives, and the public URL that
//! serves the file (and nothing that could run in our origin).

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, call, eventually, live_ticket, spawn_app, token};

/// A tiny valid PNG (1×1).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn send(
    app: &TestApp,
    bearer: &str,
    ticket: &str,
    name: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{ticket}/attachments?name={name}")))
        .bearer_auth(bearer)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Files kept: in the attachments folder on SQLite, in the database on PostgreSQL.
async fn stored_files(app: &TestApp) -> usize {
    if let backend::db::Database::Postgres(db) = &app.services.db {
        let rows: i64 = sqlx::query_scalar("select count(*) from file_blobs")
            .fetch_one(db)
            .await
            .unwrap();
        return usize::try_from(rows).unwrap();
    }
    let dir = app.db_path.parent().unwrap().join("attachments");
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn an_image_reaches_botpress_at_a_url_that_serves_it() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("Shop", false).await;
    let bearer = token(&app, "ann@example.org", backend::users::Role::Agent)
        .await
        .token;
    let ticket = live_ticket(&app, &conn, "Broken screen").await;
    call(
        &app,
        &bearer,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(json!({})),
    )
    .await;

    let (status, sent) = send(
        &app,
        &bearer,
        &ticket,
        "../photo 1.png",
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(stored_files(&app).await, 1);
    let calls = eventually(5, "the image reaches the webhook", || async {
        let calls = app
            .webhook_calls(&format!("{}/message-from-agent", conn.webhook_path))
            .await;
        (!calls.is_empty()).then_some(calls)
    })
    .await;
    let call = &calls[0];
    assert_eq!(call["messageType"], "image");
    let url = call["payload"]["imageUrl"].as_str().unwrap();
    assert!(url.starts_with(&app.address), "{url}");
    assert!(
        url.ends_with("/photo_1.png"),
        "the name is made safe: {url}"
    );

    // Botpress fetches it without any credentials.
    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert!(
        fetched.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);

    // A guessed key finds nothing, and a path trick cannot leave the folder.
    let wrong = app
        .get(&format!("/files/{}/photo_1.png", "0".repeat(64)))
        .await;
    assert_eq!(wrong.status(), 404);
    let trick = app.get("/files/..%2F..%2Fbaton.db/x").await;
    assert_eq!(trick.status(), 404);
}

#[tokio::test]
async fn limits_and_ownership_are_enforced_and_refusals_keep_nothing() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/hook/Shop/agent-assigned"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.botpress)
        .await;
    let conn = app.connection("Shop", false).await;
    let holder = token(&app, "ann@example.org", backend::users::Role::Agent)
        .await
        .token;
    let other = token(&app, "bob@example.org", backend::users::Role::Agent)
        .await
        .token;
    let ticket = live_ticket(&app, &conn, "Invoice").await;

    // Nobody holds it yet.
    let (status, body) = send(&app, &holder, &ticket, "a.png", "image/png", PNG.to_vec()).await;
    assert_eq!(status, 409, "{body}");
    call(
        &app,
        &holder,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(json!({})),
    )
    .await;
    let (status, _) = send(&app, &other, &ticket, "a.png", "image/png", PNG.to_vec()).await;
    assert_eq!(status, 403, "only the holder may send");

    let (status, body) = send(
        &app,
        &holder,
        &ticket,
        "a.svg",
        "image/svg+xml",
        b"<svg/>".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("image/svg+xml"),
        "{body}"
    );
    let (status, _) = send(
        &app,
        &holder,
        &ticket,
        "page.html",
        "text/html",
        b"<b>".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(&app, &holder, &ticket, "none", "image/png", Vec::new()).await;
    assert_eq!(status, 400, "empty");
    let (status, body) = send(
        &app,
        &holder,
        &ticket,
        "big.pdf",
        "application/pdf",
        vec![b'%'; 1024 * 1024 + 1],
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().is_some());

    assert_eq!(stored_files(&app).await, 0, "refused files are not kept");
    let rows: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from attachments"),
        fetch_one
    )
    .unwrap();
    assert_eq!(rows, 0);
    let anonymous = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{ticket}/attachments")))
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_new_ticket_is_posted_to_the_alert_webhook() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/alerts"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.botpress)
        .await;
    let alerts = format!("{}/alerts", app.botpress.uri());
    backend::alerts::set(app.store(), 5, Some(&alerts))
        .await
        .unwrap();
    let conn = app.connection("Shop", false).await;
    let ticket = app.escalate(&conn, "Where is my order?").await;
    let alert = eventually(5, "the alert webhook is called", || async {
        app.webhook_calls("/alerts").await.pop()
    })
    .await;
    assert_eq!(alert["event"], "ticket_created");
    assert_eq!(alert["ticket"], ticket.as_str());
    let text = alert["text"].as_str().unwrap();
    assert!(
        text.contains("Where is my order?") && text.contains(&format!("/inbox/{ticket}")),
        "{text}"
    );
}
