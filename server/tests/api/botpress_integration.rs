//! Baton's own Botpress integration (HITL 2.1): registration, users, handoffs with
//! their history, team and priority, messages stored once, signed calls back, and the
//! wall between the two integrations' connections.

use std::time::Duration;

use backend::outbox::signing;
use backend::users::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestConnection, call, eventually, spawn_app, token};
use crate::realtime::{Auth, next, open};

/// `/createUser` then `/startHitl` with `extra` fields; returns (customer, response).
async fn start(app: &TestApp, conn: &TestConnection, extra: Value) -> (String, reqwest::Response) {
    let response = app
        .botpress_call(
            conn,
            "createUser",
            &json!({"botpressUserId": "user_dana", "name": "Dana", "email": "dana@example.org"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let customer = response.json::<Value>().await.unwrap()["customerId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = json!({
        "customerId": customer,
        "title": "Refund",
        "description": "Wants a refund",
        "messageHistory": history(),
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    (customer, app.botpress_call(conn, "startHitl", &body).await)
}

/// The ticket id a `/startHitl` answered with.
async fn ticket_id(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["ticketId"].as_str().expect("a ticket id").to_owned()
}

/// Ten messages of mixed types, from the customer and the bot.
fn history() -> Value {
    json!([
        {"source": {"type": "user", "userId": "user_dana"}, "type": "text", "payload": {"text": "Hi"}},
        {"source": {"type": "bot"}, "type": "choice", "payload": {"text": "Pick one", "options": [{"label": "Refund", "value": "refund"}]}},
        {"source": {"type": "user", "userId": "user_dana"}, "type": "image", "payload": {"imageUrl": "https://cdn.example.org/box.png"}},
        {"source": {"type": "bot"}, "type": "markdown", "payload": {"markdown": "**Sorry** about that"}},
        {"source": {"type": "user", "userId": "user_dana"}, "type": "file", "payload": {"fileUrl": "https://cdn.example.org/r.pdf", "title": "receipt"}},
        {"source": {"type": "bot"}, "type": "carousel", "payload": {"items": []}},
        {"source": {"type": "user", "userId": "user_dana"}, "type": "location", "payload": {"latitude": 45.5, "longitude": -73.6}},
        {"source": {"type": "bot"}, "type": "card", "payload": {"title": "Refunds", "actions": []}},
        {"source": {"type": "user", "userId": "user_dana"}, "type": "audio", "payload": {"audioUrl": "https://cdn.example.org/a.mp3"}},
        {"source": {"type": "bot"}, "type": "text", "payload": {"text": "Let me get a person"}}
    ])
}

/// The ticket as an admin reads it over the REST API.
async fn ticket(app: &TestApp, bearer: &str, remote: &str) -> Value {
    let (code, t) = call(
        app,
        bearer,
        "GET",
        &format!("/api/v1/tickets/{remote}"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{t}");
    t
}

fn payload_of(message: &Value) -> Value {
    match &message["payload"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    }
}

#[tokio::test]
async fn registration_brings_the_webhook_url_and_keeps_one_signing_key() {
    let app = spawn_app().await;
    let keyed = backend::connections::create_for_baton(app.store(), "Shop bot")
        .await
        .unwrap();
    let endpoint = keyed.endpoint_url(&app.address);
    let conn = backend::connections::get(app.store(), keyed.connection.id)
        .await
        .unwrap();
    assert_eq!(
        (
            conn.integration.as_str(),
            conn.registered_webhook_url,
            conn.registered_at
        ),
        ("baton", None, None)
    );
    let register = |url: String, body: Value| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("{url}/register"))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let hook = "https://webhook.botpress.cloud/4f0c2a9e-7b1d-4c55-9a3e-1d2b3c4d5e6f";

    // A wrong token learns nothing; a wrong body is named.
    let wrong = register(
        format!("{}/botpress/nope", app.address),
        json!({"webhookUrl": hook}),
    )
    .await;
    assert_eq!(
        (wrong.status().as_u16(), wrong.text().await.unwrap()),
        (404, String::new())
    );
    let bad = register(endpoint.clone(), json!({"webhookUrl": "not a url"})).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("webhookUrl"));

    let first = register(
        endpoint.clone(),
        json!({"webhookUrl": hook, "botId": "bot_1"}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let key = first["signingKey"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 64);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(first["connection"], "Shop bot");
    let again: Value = register(endpoint.clone(), json!({"webhookUrl": hook}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["signingKey"],
        key.as_str(),
        "calls in flight stay valid"
    );
    let conn = backend::connections::get(app.store(), keyed.connection.id)
        .await
        .unwrap();
    assert_eq!(conn.registered_webhook_url.as_deref(), Some(hook));
    assert!(conn.registered_at.is_some() && conn.unregistered_at.is_none());

    // Uninstalled: shown, and "Test connection" says so.
    let gone = app
        .client
        .post(format!("{endpoint}/unregister"))
        .json(&json!({"webhookUrl": hook}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    let conn = backend::connections::get(app.store(), keyed.connection.id)
        .await
        .unwrap();
    assert!(conn.unregistered_at.is_some());
    let check = backend::connections::check(&app.services, conn.id)
        .await
        .unwrap();
    assert!(
        !check.ok && check.message.contains("uninstalled"),
        "{check:?}"
    );
    // Installed again.
    register(endpoint, json!({"webhookUrl": hook})).await;
    let conn = backend::connections::get(app.store(), keyed.connection.id)
        .await
        .unwrap();
    assert!(conn.unregistered_at.is_none());
}

#[tokio::test]
async fn each_integration_calls_only_its_own_connections() {
    let app = spawn_app().await;
    let hitl_api = app.connection("legacy", false).await;
    let (baton, _) = app.baton_connection("modern").await;
    let response = app
        .botpress_call(
            &hitl_api,
            "register",
            &json!({"webhookUrl": "https://webhook.botpress.cloud/x"}),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("plus/hitl-api"));
    let response = app
        .botpress_call(
            &baton,
            "createRemoteConversation",
            &json!({"type": "createRemoteConversation"}),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Baton's integration")
    );
    // plus/hitl-api's own calls are untouched.
    assert!(
        app.escalate(&hitl_api, "still works")
            .await
            .starts_with("tkt_")
    );
}

#[tokio::test]
async fn a_handoff_brings_its_history_team_and_priority() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let (conn, _) = app.baton_connection("shop").await;
    let (code, team) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "Billing", "agent_ids": [], "connection_ids": []})),
    )
    .await;
    assert_eq!(code, 201, "{team}");

    let (customer, response) = start(
        &app,
        &conn,
        json!({"team": "billing", "priority": "urgent"}),
    )
    .await;
    let remote = ticket_id(response).await;
    assert!(remote.starts_with("tkt_"));
    let t = ticket(&app, &admin.token, &remote).await;
    assert_eq!(
        (
            &t["status"],
            &t["team"],
            &t["priority"],
            &t["title"],
            &t["customer_email"]
        ),
        (
            &json!("queued"),
            &json!("Billing"),
            &json!("urgent"),
            &json!("Refund"),
            &json!("dana@example.org")
        )
    );
    // The ten messages, in order, before the handoff, each whole.
    let messages = t["messages"].as_array().unwrap();
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "text", "choice", "image", "markdown", "file", "carousel", "location", "card", "audio",
            "text"
        ]
    );
    let origins: Vec<&str> = messages
        .iter()
        .map(|m| m["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins[..2], ["transcript_customer", "transcript_bot"]);
    assert_eq!(
        payload_of(&messages[6]),
        json!({"latitude": 45.5, "longitude": -73.6})
    );

    // The same email is the same customer.
    let again = app
        .botpress_call(
            &conn,
            "createUser",
            &json!({"botpressUserId": "user_other", "name": "Dana B.", "email": "DANA@example.org"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(again["customerId"], customer.as_str());
    // Tagged with the Botpress user, the latest one that shares the email.
    let mut tx = app.store().autocommit().await.unwrap();
    let id = tx
        .message_addressed(conn.id, "", &customer)
        .await
        .unwrap()
        .customer
        .unwrap();
    assert_eq!(
        tx.customer_botpress_user_id(id).await.unwrap().as_deref(),
        Some("user_other")
    );
}

#[tokio::test]
async fn a_wrong_team_or_priority_is_refused_with_the_allowed_values() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let (conn, _) = app.baton_connection("shop").await;
    let (_, response) = start(&app, &conn, json!({"team": "Sales"})).await;
    assert_eq!(response.status(), 400);
    let said = response.text().await.unwrap();
    assert!(
        said.contains("hitlSession.team") && said.contains("no teams yet"),
        "{said}"
    );
    for name in ["Billing", "Returns"] {
        let (code, _) = call(
            &app,
            &admin.token,
            "POST",
            "/api/v1/teams",
            Some(json!({"name": name, "agent_ids": [], "connection_ids": []})),
        )
        .await;
        assert_eq!(code, 201);
    }
    let (_, response) = start(&app, &conn, json!({"team": "Sales"})).await;
    assert_eq!(response.status(), 400);
    let said = response.text().await.unwrap();
    assert!(said.contains("the teams are Billing, Returns"), "{said}");
    // Once a team serves the bot, only its teams may hold its tickets: the others'
    // members could never see them.
    let (code, _) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "Sales", "agent_ids": [], "connection_ids": [conn.id]})),
    )
    .await;
    assert_eq!(code, 201);
    let (_, response) = start(&app, &conn, json!({"team": "Billing"})).await;
    assert_eq!(response.status(), 400);
    let said: Value = response.json().await.unwrap();
    assert_eq!(
        said["error"],
        "hitlSession.team: no team named \"Billing\" serves this bot; the teams are Sales"
    );
    let (_, response) = start(&app, &conn, json!({"priority": "asap"})).await;
    assert_eq!(response.status(), 400);
    let said = response.text().await.unwrap();
    assert!(said.contains("low, normal, high, urgent"), "{said}");
    let response = app
        .botpress_call(
            &conn,
            "startHitl",
            &json!({"customerId": "cus_unknown", "messageHistory": []}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("createUser"));
    // Nothing was stored by any of them.
    let (code, page) = call(
        &app,
        &admin.token,
        "GET",
        "/api/v1/tickets?status=all",
        None,
    )
    .await;
    assert_eq!((code, page["tickets"].as_array().unwrap().len()), (200, 0));
}

#[tokio::test]
async fn hitl_messages_are_stored_once_in_order_and_stop_closes_with_the_reason() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let (conn, _) = app.baton_connection("shop").await;
    let (customer, response) = start(&app, &conn, json!({})).await;
    let remote = ticket_id(response).await;
    let kinds = [
        (
            "text",
            json!({"text": "Still there?", "userId": "user_dana"}),
        ),
        (
            "image",
            json!({"imageUrl": "https://cdn.example.org/i.png"}),
        ),
        (
            "audio",
            json!({"audioUrl": "https://cdn.example.org/a.mp3"}),
        ),
        (
            "video",
            json!({"videoUrl": "https://cdn.example.org/v.mp4"}),
        ),
        (
            "file",
            json!({"fileUrl": "https://cdn.example.org/f.pdf", "title": "f"}),
        ),
        (
            "bloc",
            json!({"items": [{"type": "text", "payload": {"text": "two parts"}}], "additionalData": "x"}),
        ),
    ];
    for (i, (kind, payload)) in kinds.iter().enumerate() {
        let body = json!({"ticketId": remote, "conversationId": "conv_1", "messageId": format!("msg_{i}"),
                          "from": "customer", "customerId": customer, "type": kind, "payload": payload});
        for _ in 0..2 {
            // Botpress retries: the second delivery is accepted and not stored again.
            let response = app.botpress_call(&conn, "message", &body).await;
            assert_eq!(response.status(), 200);
        }
    }
    let notice = json!({"ticketId": remote, "messageId": "msg_bot", "from": "bot", "type": "text",
                        "payload": {"text": "An agent will be with you shortly"}});
    assert_eq!(
        app.botpress_call(&conn, "message", &notice).await.status(),
        200
    );
    let missing = json!({"ticketId": remote, "messageId": "msg_x", "from": "customer", "type": "text",
                         "payload": {"text": "?"}});
    let response = app.botpress_call(&conn, "message", &missing).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("customerId"));

    let t = ticket(&app, &admin.token, &remote).await;
    let live: Vec<(String, String)> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["origin"].as_str().unwrap().starts_with("transcript"))
        .map(|m| {
            (
                m["origin"].as_str().unwrap().to_owned(),
                m["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = kinds
        .iter()
        .map(|(k, _)| ("customer".into(), (*k).into()))
        .collect();
    want.push(("system".into(), "text".into()));
    assert_eq!(live, want);
    let id = app.ticket_id(&conn, &remote).await;
    let row = backend::tickets::get(app.store(), id).await.unwrap();
    assert_eq!(row.botpress_conversation_id.as_deref(), Some("conv_1"));

    let stop = json!({"ticketId": remote, "conversationId": "conv_1", "reason": "customer_ended"});
    assert_eq!(
        app.botpress_call(&conn, "stopHitl", &stop).await.status(),
        200
    );
    let row = backend::tickets::get(app.store(), id).await.unwrap();
    assert_eq!(
        (row.status.as_str(), row.closed_reason.map(|r| r.as_str())),
        ("closed", Some("customer_ended"))
    );
    // Twice, or for a ticket Baton does not know: nothing to close, accepted.
    assert_eq!(
        app.botpress_call(&conn, "stopHitl", &stop).await.status(),
        200
    );
    let unknown = json!({"ticketId": "tkt_unknown"});
    assert_eq!(
        app.botpress_call(&conn, "stopHitl", &unknown)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.activity(id).await,
        ["Ended from the bot's side: the customer left"],
        "said once, on the activity lines"
    );
}

/// A signed call the fake Botpress received: its route, body, and whether its
/// signature is right under `key` and fresh.
async fn signed_calls(app: &TestApp, conn: &TestConnection, key: &str) -> Vec<(String, Value)> {
    let mut calls = Vec::new();
    for r in app.botpress.received_requests().await.unwrap() {
        let Some(route) = r
            .url
            .path()
            .strip_prefix(&format!("{}/", conn.webhook_path))
        else {
            continue;
        };
        let timestamp: i64 = r.headers[signing::TIMESTAMP_HEADER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert_eq!(
            r.headers[signing::SIGNATURE_HEADER].to_str().unwrap(),
            signing::sign(key, timestamp, &body),
            "every call is signed over its timestamp and body"
        );
        let now = backend::clock::now_ms() / 1000;
        assert!((now - timestamp).abs() <= 60, "signed when sent");
        calls.push((route.to_owned(), serde_json::from_str(&body).unwrap()));
    }
    calls
}

#[tokio::test]
async fn calls_to_the_integration_are_signed_and_name_ticket_conversation_and_agent() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let ben = token(&app, "ben@example.org", Role::Agent).await;
    let (conn, key) = app.baton_connection("shop").await;
    let (customer, response) = start(&app, &conn, json!({})).await;
    let remote = ticket_id(response).await;
    let hello = json!({"ticketId": remote, "conversationId": "conv_7", "messageId": "m1",
                       "from": "customer", "customerId": customer, "type": "text", "payload": {"text": "hello"}});
    assert_eq!(
        app.botpress_call(&conn, "message", &hello).await.status(),
        200
    );

    let path = format!("/api/v1/tickets/{remote}");
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, reply) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/messages"),
        Some(json!({"text": "Hi Dana"})),
    )
    .await;
    assert_eq!(code, 201);
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/assign"),
        Some(json!({"agent_id": ben.user.public_id})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = call(&app, &ben.token, "POST", &format!("{path}/close"), None).await;
    assert_eq!(code, 200);
    eventually(10, "the hand-back to reach the integration", || async {
        let calls = signed_calls(&app, &conn, &key).await;
        calls
            .iter()
            .any(|(route, _)| route == "stop-hitl")
            .then_some(())
    })
    .await;

    let calls = signed_calls(&app, &conn, &key).await;
    let agent = |who: &crate::helpers::ApiClient| json!({"id": who.user.public_id, "name": who.user.name, "avatarUrl": null});
    assert_eq!(
        calls,
        [
            (
                "agent-assigned".to_owned(),
                json!({"ticketId": remote, "conversationId": "conv_7", "agent": agent(&ana)})
            ),
            (
                "message-from-agent".to_owned(),
                json!({"ticketId": remote, "conversationId": "conv_7", "agent": agent(&ana),
                    "messageId": reply["id"].as_i64().unwrap().to_string(),
                    "messageType": "text", "payload": {"text": "Hi Dana"}})
            ),
            (
                "agent-assigned".to_owned(),
                json!({"ticketId": remote, "conversationId": "conv_7", "agent": agent(&ben)})
            ),
            (
                "stop-hitl".to_owned(),
                json!({"ticketId": remote, "conversationId": "conv_7"})
            ),
        ]
    );
    let _ = admin;
}

#[tokio::test]
async fn nothing_is_sent_to_an_uninstalled_integration() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let (conn, _) = app.baton_connection("shop").await;
    let (customer, response) = start(&app, &conn, json!({})).await;
    let remote = ticket_id(response).await;
    let hello = json!({"ticketId": remote, "messageId": "m1", "from": "customer",
                       "customerId": customer, "type": "text", "payload": {"text": "hello"}});
    app.botpress_call(&conn, "message", &hello).await;
    assert_eq!(
        app.botpress_call(&conn, "unregister", &json!({}))
            .await
            .status(),
        200
    );
    let path = format!("/api/v1/tickets/{remote}");
    call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/assign"),
        Some(json!({})),
    )
    .await;
    let (code, sent) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/messages"),
        Some(json!({"text": "Hi"})),
    )
    .await;
    assert_eq!(code, 201);
    let message = sent["id"].as_i64().unwrap();
    let error = eventually(10, "the reply to fail", || async {
        let t = ticket(&app, &ana.token, &remote).await;
        let m = t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == message)
            .cloned()?;
        (m["delivery"] == "failed")
            .then(|| m["delivery_error"].as_str().unwrap_or_default().to_owned())
    })
    .await;
    assert!(error.contains("uninstalled"), "{error}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        app.botpress.received_requests().await.unwrap().is_empty(),
        "nothing reached the integration"
    );
}

#[tokio::test]
async fn automatic_routing_serves_urgent_first_and_a_team_ticket_only_to_its_team() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let ben = token(&app, "ben@example.org", Role::Agent).await;
    let (conn, _) = app.baton_connection("shop").await;
    let (code, team) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "Billing", "agent_ids": [ben.user.public_id], "connection_ids": []})),
    )
    .await;
    assert_eq!(code, 201, "{team}");
    // Only agents with Baton open are given tickets.
    let mut tabs = Vec::new();
    for agent in [&ana, &ben] {
        let mut ws = open(&app, Auth::Bearer(&agent.token), None, None)
            .await
            .unwrap();
        next(&mut ws).await;
        tabs.push(ws);
    }
    let mut tickets = Vec::new();
    for extra in [
        json!({"priority": "low"}),
        json!({"priority": "urgent", "team": "Billing"}),
        json!({}),
    ] {
        let (_, response) = start(&app, &conn, extra).await;
        tickets.push(ticket_id(response).await);
    }
    let holder = |remote: String| {
        let app = &app;
        let bearer = admin.token.clone();
        async move {
            ticket(app, &bearer, &remote).await["assignee_id"]
                .as_str()
                .map(str::to_owned)
        }
    };
    let (code, routing) = call(
        &app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/connections/{}/routing", conn.id),
        Some(json!({"assignment": "automatic", "default_capacity": 1})),
    )
    .await;
    assert_eq!(code, 200, "{routing}");
    let urgent = eventually(5, "the urgent Billing ticket to be given", || {
        holder(tickets[1].clone())
    })
    .await;
    assert_eq!(
        urgent, ben.user.public_id,
        "only Billing's member may have it"
    );
    let normal = eventually(5, "the normal ticket to be given", || {
        holder(tickets[2].clone())
    })
    .await;
    assert_eq!(
        normal, ana.user.public_id,
        "normal before low, though low came first"
    );
    backend::routing::auto::route(&app.services).await.unwrap();
    assert_eq!(holder(tickets[0].clone()).await, None, "both are full");
}
