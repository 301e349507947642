use crate::helpers::spawn_app;

#[tokio::test]
async fn status_server_fn_reports_version_schema_and_database_time() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.call_server_fn("status", Some(&cookie)).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let applied: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from _sqlx_migrations"),
        fetch_one
    )
    .unwrap();
    assert_eq!(body["migrations"], applied);
    assert!(body["schema_version"].as_i64().unwrap() > 0);
    let now = backend::tickets::export::rfc3339(backend::clock::now_ms());
    // Same day at least: the value comes from the live database, not a constant.
    assert_eq!(body["database_time"].as_str().unwrap()[..10], now[..10]);
}

#[tokio::test]
async fn server_functions_refuse_anonymous_callers_with_401() {
    let app = spawn_app().await;
    let response = app.call_server_fn("status", None).await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!("Unauthorized"));
}

#[tokio::test]
async fn a_failing_database_gives_an_error_without_internals() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    app.services.db.close().await;
    let response = app.call_server_fn("status", Some(&cookie)).await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap().to_lowercase();
    for internal in ["pool", "sqlx", "sqlite", "postgres", "closed"] {
        assert!(!text.contains(internal), "{text}");
    }
}

#[tokio::test]
async fn malformed_server_function_calls_are_400_not_500() {
    let app = spawn_app().await;
    for body in ["email=ana@example.com", "garbage%%%", ""] {
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body:?}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert!(error["Transport"].as_str().is_some(), "{error}");
    }
}

#[tokio::test]
async fn a_conversation_opens_with_its_latest_messages_and_counts_the_earlier_ones() {
    let app = spawn_app().await;
    let conn = app.connection("paging", false).await;
    let ticket = app.escalate(&conn, "Long one").await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    for n in 1..=7 {
        app.user_says(
            &conn,
            &ticket,
            &customer,
            serde_json::json!({"type": "text", "text": format!("m{n}")}),
        )
        .await;
    }
    // Two lines of the bot's transcript, imported later but said earlier: they come
    // first in the conversation, whatever their row ids.
    let id = app.ticket_id(&conn, &ticket).await;
    let mut tx = app.store().write().await.unwrap();
    for (n, at) in [(2, 2_000), (1, 1_000)] {
        let payload = format!(r#"{{"text": "t{n}"}}"#);
        let line = store::sync::TranscriptLine {
            ticket: id,
            origin: protocol::ticket::Origin::TranscriptBot,
            kind: "text",
            payload: &payload,
            customer: None,
            external_id: &format!("msg_t{n}"),
            sent_at: Some(at),
            at: backend::clock::now_ms(),
        };
        tx.transcript_insert(&line).await.unwrap();
    }
    tx.commit().await.unwrap();
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let texts = |body: &serde_json::Value| -> Vec<String> {
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let payload: serde_json::Value =
                    serde_json::from_str(m["payload"].as_str().unwrap()).unwrap();
                payload["text"].as_str().unwrap().to_owned()
            })
            .collect()
    };

    let (status, body) = app
        .call_form("inbox/ticket", &cookie, &[("id", &ticket), ("latest", "3")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(texts(&body), ["m5", "m6", "m7"]);
    assert_eq!(body["earlier"], 6);

    // Opened at a search hit: as many as reach it, and three before, for context.
    let m4: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select id from messages where payload ->> 'text' = 'm4'"),
        fetch_one
    )
    .unwrap();
    let (status, body) = app
        .call_form(
            "inbox/ticket",
            &cookie,
            &[
                ("id", &ticket),
                ("latest", "3"),
                ("message", &m4.to_string()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(texts(&body), ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    // A message of another ticket reaches nothing here.
    let (_, body) = app
        .call_form(
            "inbox/ticket",
            &cookie,
            &[("id", &ticket), ("latest", "3"), ("message", "999999")],
        )
        .await;
    assert_eq!(texts(&body), ["m5", "m6", "m7"]);

    let (_, body) = app
        .call_form("inbox/ticket", &cookie, &[("id", &ticket), ("latest", "8")])
        .await;
    assert_eq!(
        texts(&body),
        ["t2", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]
    );
    assert_eq!(body["earlier"], 1);

    // Without `latest`, the first screenful: here, everything.
    let (_, body) = app
        .call_form("inbox/ticket", &cookie, &[("id", &ticket)])
        .await;
    assert_eq!(
        texts(&body),
        ["t1", "t2", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]
    );
    assert_eq!(body["earlier"], 0);

    for bad in ["0", "10001", "-1", "many"] {
        let (status, body) = app
            .call_form("inbox/ticket", &cookie, &[("id", &ticket), ("latest", bad)])
            .await;
        assert_eq!(status, 400, "latest={bad}: {body}");
    }

    // An unknown ticket is its own kind of error, so the page can say so (and 404).
    let (status, body) = app
        .call_form("inbox/ticket", &cookie, &[("id", "tkt_nope")])
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["NotFound"], "ticket not found");
}

#[tokio::test]
async fn server_function_bodies_over_the_limit_are_refused_with_413() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let big = format!(
        "id=tkt_x&text={}",
        "a".repeat(baton::http::server_fns::MAX_BODY)
    );
    let response = app.call_fn("inbox/reply", Some(&cookie), &big).await;
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["Invalid"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
    // Just under it is decoded as usual (here: no such ticket).
    let small = format!("id=tkt_x&text={}", "a".repeat(1000));
    let response = app.call_fn("inbox/reply", Some(&cookie), &small).await;
    assert_eq!(response.status(), 404);
}
