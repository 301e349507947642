//! The REST API for tickets: what a program does with a personal API token, checked
//! against the fake Botpress.

use serde_json::json;

use crate::helpers::{call, eventually, live_ticket, spawn_app, token};

#[tokio::test]
async fn a_program_takes_replies_transfers_and_hands_back_a_ticket() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", backend::users::Role::Agent).await;
    let ben = token(&app, "ben@example.com", backend::users::Role::Agent).await;
    let remote = live_ticket(&app, &conn, "Where is my parcel?").await;

    let (status, queued) = call(
        &app,
        &ana.token,
        "GET",
        "/api/v1/tickets?status=queued",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(queued["tickets"][0]["id"], remote.as_str());
    assert_eq!(queued["tickets"][0]["status"], "queued");
    assert_eq!(queued["tickets"][0]["customer_email"], "dana@example.org");
    assert_eq!(queued["tickets"][0]["last_message"], "I need a human");
    assert_eq!(queued["tickets"][0]["unread"], 1);

    let (status, taken) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(
        (taken["status"].as_str(), taken["assignee_id"].as_str()),
        (Some("assigned"), Some(ana.user.public_id.as_str()))
    );
    let assigned = format!("{}/agent-assigned", conn.webhook_path);
    eventually(5, "agent-assigned for Ana", || async {
        let calls = app.webhook_calls(&assigned).await;
        (calls.len() == 1).then_some(calls)
    })
    .await;
    let (_, mine) = call(
        &app,
        &ana.token,
        "GET",
        "/api/v1/tickets?status=assigned&assignee=me",
        None,
    )
    .await;
    assert_eq!(mine["tickets"].as_array().unwrap().len(), 1);

    let (status, sent) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/messages"),
        Some(json!({"text": "On its way!"})),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let replied = format!("{}/message-from-agent", conn.webhook_path);
    let calls = eventually(5, "the reply reaches the bot", || async {
        let calls = app.webhook_calls(&replied).await;
        (!calls.is_empty()).then_some(calls)
    })
    .await;
    assert_eq!(calls[0]["payload"], json!({"text": "On its way!"}));
    assert_eq!(calls[0]["remoteUserId"], ana.user.public_id.as_str());

    let (status, moved) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/assign"),
        Some(json!({"agent_id": ben.user.public_id})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(moved["assignee_id"], ben.user.public_id.as_str());
    eventually(5, "agent-assigned for Ben", || async {
        let calls = app.webhook_calls(&assigned).await;
        (calls.len() == 2 && calls[1]["remoteUserId"] == ben.user.public_id.as_str()).then_some(())
    })
    .await;
    let (status, refused) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/messages"),
        Some(json!({"text": "still me"})),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    // Ben's now: Ana may no longer close it; Ben may.
    let (status, refused) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/close"),
        None,
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("only they or an admin"),
        "{refused}"
    );

    let (status, closed) = call(
        &app,
        &ben.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/close"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(closed["status"], "closed");
    let stopped = format!("{}/stop-hitl", conn.webhook_path);
    eventually(5, "stop-hitl", || async {
        (app.webhook_calls(&stopped).await.len() == 1).then_some(())
    })
    .await;
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{remote}/close"),
        None,
    )
    .await;
    assert_eq!(status, 409, "closing twice is a conflict");

    let (status, full) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/tickets/{remote}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let said: Vec<(&str, &str)> = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["origin"].as_str().unwrap(), m["type"].as_str().unwrap()))
        .collect();
    assert_eq!(said, [("customer", "text"), ("agent", "text")]);
    assert_eq!(full["messages"][1]["author_name"], "ana@example.com");
    let (_, agents) = call(&app, &ana.token, "GET", "/api/v1/agents", None).await;
    let ids: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&ana.user.public_id.as_str()) && ids.contains(&ben.user.public_id.as_str()),
        "{agents}"
    );
}

#[tokio::test]
async fn ticket_lists_page_with_a_cursor_and_refuse_bad_filters_clearly() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", backend::users::Role::Agent)
        .await
        .token;
    let mut remotes = Vec::new();
    for n in 0..3 {
        remotes.push(app.escalate(&conn, &format!("Ticket {n}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?status=queued&limit=2&cursor={c}"),
            None => "/api/v1/tickets?status=queued&limit=2".to_owned(),
        };
        let (status, page) = call(&app, &ana, "GET", &path, None).await;
        assert_eq!(status, 200, "{page}");
        for t in page["tickets"].as_array().unwrap() {
            seen.push(t["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, remotes, "oldest first, each once");

    for (path, needle) in [
        ("/api/v1/tickets?status=bogus", "status must be"),
        ("/api/v1/tickets?status=queued&assignee=you", "assignee"),
        ("/api/v1/tickets?status=queued&assignee=me", "assignee=me"),
        ("/api/v1/tickets?cursor=nonsense", "cursor"),
        ("/api/v1/tickets?limit=lots", "limit"),
    ] {
        let (status, body) = call(&app, &ana, "GET", path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
    let remote = &remotes[0];
    for body in [json!({"agent_id": 5}), json!({"agent": "x"}), json!([1])] {
        let (status, error) = call(
            &app,
            &ana,
            "POST",
            &format!("/api/v1/tickets/{remote}/assign"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert!(error["error"].as_str().is_some(), "{error}");
    }
    let (status, _) = call(
        &app,
        &ana,
        "POST",
        &format!("/api/v1/tickets/{remote}/messages"),
        Some(json!({"text": 5})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(
        &app,
        &ana,
        "POST",
        &format!("/api/v1/tickets/{remote}/assign"),
        Some(json!({"agent_id": "agt_nobody"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, &ana, "GET", "/api/v1/tickets/tkt_nobody", None).await;
    assert_eq!(status, 404);
}
