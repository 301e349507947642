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
    let fetched = crate::helpers::http().get(url).send().await.unwrap();
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
        .and(path(format!("{}/agent-assigned", app.hook_path("Shop"))))
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
    // Too large is known from the declared length, before the body: it is never
    // sent (answering first while a client still sends could reset its connection).
    let headers = "Content-Type: application/pdf\r\nContent-Length: 1048577\r\n";
    let (answer, _) = raw_upload(&app, &holder, &ticket, (headers, b""), SOON).await;
    let answer = answer.expect("an answer before the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");

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

/// How long a refusal that needs no body may take to arrive.
const SOON: std::time::Duration = std::time::Duration::from_secs(3);

/// Sends an upload's headers and then only `body` (perhaps less than they declare),
/// and returns what the server answers within `wait` (`None`: nothing yet). The
/// socket is handed back so that a hanging upload stays open.
async fn raw_upload(
    app: &TestApp,
    bearer: &str,
    ticket: &str,
    (headers, body): (&str, &[u8]),
    wait: std::time::Duration,
) -> (Option<String>, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/tickets/{ticket}/attachments?name=a.png HTTP/1.1\r\nHost: baton\r\n\
         Authorization: Bearer {bearer}\r\n{headers}\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                got.extend_from_slice(&buf[..n]);
                // The whole answer: headers and a JSON body, or a closed connection.
                let text = String::from_utf8_lossy(&got);
                if text.contains("\r\n\r\n") && (text.ends_with('}') || text.ends_with("\r\n\r\n"))
                {
                    break;
                }
            }
            Ok(_) => break,
            Err(_) => return (None, stream),
        }
    }
    (Some(String::from_utf8_lossy(&got).into_owned()), stream)
}

#[tokio::test]
async fn uploads_are_refused_before_the_file_is_read_and_only_a_few_run_at_once() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("Shop", false).await;
    let holder = token(&app, "ann@example.org", backend::users::Role::Agent)
        .await
        .token;
    let other = token(&app, "bob@example.org", backend::users::Role::Agent)
        .await
        .token;
    let ticket = live_ticket(&app, &conn, "Invoice").await;
    let (code, _) = call(
        &app,
        &holder,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200);

    // Each announces a file and sends none of it: the answer comes at once.
    let png = |length: usize| format!("Content-Type: image/png\r\nContent-Length: {length}\r\n");
    for (bearer, headers, status, why) in [
        (&other, png(5_000_000), "403", "not the holder"),
        (
            &holder,
            png(1024 * 1024 + 1),
            "413",
            "larger than the limit",
        ),
        (
            &holder,
            "Content-Type: text/html\r\nContent-Length: 100\r\n".to_owned(),
            "400",
            "a type not allowed",
        ),
    ] {
        let (answer, _) = raw_upload(&app, bearer, &ticket, (&headers, b""), SOON).await;
        let answer = answer.unwrap_or_else(|| panic!("{why}: no answer before the body"));
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{why}: {answer}"
        );
    }

    // Eight slow uploads at once fill the slots (well within the 30 s a body may
    // pause); a ninth is told to come back.
    let mut slow = Vec::new();
    let part = (png(1000), b"\x89PNG");
    for _ in 0..8 {
        let quick = std::time::Duration::from_millis(100);
        let (answer, stream) = raw_upload(&app, &holder, &ticket, (&part.0, part.1), quick).await;
        assert_eq!(answer, None, "still receiving");
        slow.push(stream);
    }
    eventually(5, "eight uploads in their slots", || async {
        (app.services.uploads.available_permits() == 0).then_some(())
    })
    .await;
    let (answer, _) = raw_upload(&app, &holder, &ticket, (&png(PNG.len()), PNG), SOON).await;
    let answer = answer.expect("an answer at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );

    // They give up; their partial files go, and the slots free up.
    drop(slow);
    let chunked = [
        format!("{:x}\r\n", PNG.len()).into_bytes(),
        PNG.to_vec(),
        b"\r\n0\r\n\r\n".to_vec(),
    ]
    .concat();
    let headers = "Content-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n";
    let answer = eventually(5, "a slot for a whole file", || async {
        let (answer, _) = raw_upload(&app, &holder, &ticket, (headers, &chunked), SOON).await;
        answer.filter(|a| a.starts_with("HTTP/1.1 201"))
    })
    .await;
    assert!(answer.contains("\"delivery\":\"pending\""), "{answer}");
    eventually(5, "only the file sent whole is kept", || async {
        (stored_files(&app).await == 1).then_some(())
    })
    .await;
}
