//! Calls to the bot's webhook through the outbox: exact bodies, once per real change,
//! in order, held until the session exists, retried only when that is safe.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, TestConnection, by, eventually, replies_received, spawn_app};

/// Answers every webhook route of `conn` with `status`.
async fn webhook_answers(app: &TestApp, conn: &TestConnection, status: u16) {
    for route in ["message-from-agent", "agent-assigned", "stop-hitl"] {
        Mock::given(method("POST"))
            .and(path(format!("{}/{route}", conn.webhook_path)))
            .respond_with(ResponseTemplate::new(status))
            .mount(&app.botpress)
            .await;
    }
}

/// A ticket whose Botpress session is live (the customer has written), so calls go out
/// without the start-up hold.
async fn live_ticket(app: &TestApp, conn: &TestConnection) -> (String, i64) {
    let customer = app.remote_user(conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(conn, "Where is my parcel?").await;
    app.user_says(
        conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "hello", "userId": "user_1"}),
    )
    .await;
    let id = app.ticket_id(conn, &remote).await;
    (remote, id)
}

/// A live ticket taken by the agent Ana.
async fn taken_ticket(app: &TestApp, conn: &TestConnection) -> (String, i64, backend::users::User) {
    let (remote, ticket) = live_ticket(app, conn).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, ticket, ana.id, &by(app, ana.id).await)
        .await
        .unwrap();
    (remote, ticket, ana)
}

/// A text reply from `agent`; returns the message id.
async fn reply(
    app: &TestApp,
    ticket: i64,
    agent: &backend::users::User,
    text: impl Into<String>,
) -> i64 {
    let payload = json!({ "text": text.into() });
    backend::tickets::send_message(&app.services, ticket, agent.id, "text", &payload)
        .await
        .unwrap()
}

async fn delivery(app: &TestApp, message: i64) -> (Option<String>, Option<String>) {
    crate::sql!(
        app,
        sqlx::query_as("select delivery, delivery_error from messages where id = $1").bind(message),
        fetch_one
    )
    .unwrap()
}

async fn wait_delivery(app: &TestApp, message: i64, want: &str) -> Option<String> {
    eventually(
        15,
        &format!("message {message} to become {want}"),
        || async {
            let (state, error) = delivery(app, message).await;
            (state.as_deref() == Some(want)).then_some(error)
        },
    )
    .await
}

#[tokio::test]
async fn take_reply_and_hand_back_send_exactly_the_protocol_bodies() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    webhook_answers(&app, &conn, 200).await;
    let (remote, ticket) = live_ticket(&app, &conn).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    assert!(ana.public_id.starts_with("agt_"));

    assert!(
        backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
            .await
            .unwrap()
    );
    // Extra keys an agent's client might add must not travel to Botpress.
    let sneaky = json!({"text": "Hi Dana, checking now.", "type": "text", "userId": "sneaky"});
    let message = backend::tickets::send_message(&app.services, ticket, ana.id, "text", &sneaky)
        .await
        .unwrap();
    wait_delivery(&app, message, "sent").await;
    backend::tickets::hand_back(&app.services, ticket, &by(&app, ana.id).await)
        .await
        .unwrap();

    let assigned = format!("{}/agent-assigned", conn.webhook_path);
    let replied = format!("{}/message-from-agent", conn.webhook_path);
    let stopped = format!("{}/stop-hitl", conn.webhook_path);
    eventually(10, "stop-hitl", || async {
        (!app.webhook_calls(&stopped).await.is_empty()).then_some(())
    })
    .await;

    assert_eq!(
        app.webhook_calls(&assigned).await,
        [json!({"remoteConversationId": remote, "remoteUserId": ana.public_id})]
    );
    assert_eq!(
        app.webhook_calls(&replied).await,
        [
            json!({"remoteConversationId": remote, "remoteUserId": ana.public_id,
                "messageType": "text", "payload": {"text": "Hi Dana, checking now."}})
        ],
        "only the type's own fields travel"
    );
    assert_eq!(
        app.webhook_calls(&stopped).await,
        [json!({"remoteConversationId": remote})]
    );

    let t = backend::tickets::get(app.store(), ticket).await.unwrap();
    assert_eq!(
        (t.status.as_str(), t.closed_reason.map(|r| r.as_str())),
        ("closed", Some("handed_back"))
    );
    // Every call carried a JSON body with the JSON content type.
    for r in app.botpress.received_requests().await.unwrap() {
        assert_eq!(r.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn agent_assigned_is_sent_once_per_real_assignment() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    webhook_answers(&app, &conn, 200).await;
    let (_, ticket) = live_ticket(&app, &conn).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    let ben = app.agent("ben@example.com", "Ben").await;

    assert!(
        backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
            .await
            .unwrap()
    );
    assert!(
        !backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
            .await
            .unwrap(),
        "no-op"
    );
    assert!(
        backend::tickets::assign(&app.services, ticket, ben.id, &by(&app, ana.id).await)
            .await
            .unwrap(),
        "transfer"
    );

    let assigned = format!("{}/agent-assigned", conn.webhook_path);
    let calls = eventually(10, "two assignments", || async {
        let calls = app.webhook_calls(&assigned).await;
        (calls.len() >= 2).then_some(calls)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids: Vec<&str> = calls
        .iter()
        .map(|c| c["remoteUserId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [ana.public_id.as_str(), ben.public_id.as_str()]);
    assert_eq!(app.webhook_calls(&assigned).await.len(), 2);
}

#[tokio::test]
async fn agent_and_customer_ids_never_collide() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let agent = app.agent("ana@example.com", "Ana").await;
    let ticket = app.escalate(&conn, "x").await;
    let prefixes = [&customer[..4], &agent.public_id[..4], &ticket[..4]];
    assert_eq!(prefixes, ["cus_", "agt_", "tkt_"]);
}

#[tokio::test]
async fn calls_wait_for_the_session_then_go_out() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    webhook_answers(&app, &conn, 200).await;
    // The hold counts from the ticket's creation, which is after this instant: the
    // call may not arrive sooner than the hold after it, however slow the machine.
    let before_creation = std::time::Instant::now();
    let remote = app.escalate(&conn, "Fresh").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    let assigned_at = before_creation.elapsed();

    let assigned = format!("{}/agent-assigned", conn.webhook_path);
    eventually(10, "the held call", || async {
        (!app.webhook_calls(&assigned).await.is_empty()).then_some(())
    })
    .await;
    let arrived = before_creation.elapsed();
    // Millisecond clocks on both sides: a little slack below the 2 s.
    let hold = Duration::from_millis(backend::outbox::worker::HOLD_MS as u64 - 10);
    assert!(
        arrived >= hold,
        "sent {arrived:?} after creation (assigned at {assigned_at:?}): not held"
    );
}

#[tokio::test]
async fn the_first_message_releases_held_calls_at_once() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    webhook_answers(&app, &conn, 200).await;
    let remote = app.escalate(&conn, "Fresh").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    app.user_says(
        &conn,
        &remote,
        "BOT",
        json!({"type": "text", "text": "note"}),
    )
    .await;
    let assigned = format!("{}/agent-assigned", conn.webhook_path);
    eventually(5, "the released call", || async {
        (!app.webhook_calls(&assigned).await.is_empty()).then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn replies_arrive_in_order() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    webhook_answers(&app, &conn, 200).await;
    let (_, ticket, ana) = taken_ticket(&app, &conn).await;
    let mut last = 0;
    for i in 0..10 {
        last = backend::tickets::send_message(
            &app.services,
            ticket,
            ana.id,
            "text",
            &json!({"text": format!("m{i}")}),
        )
        .await
        .unwrap();
    }
    wait_delivery(&app, last, "sent").await;
    let texts: Vec<String> = app
        .webhook_calls(&format!("{}/message-from-agent", conn.webhook_path))
        .await
        .iter()
        .map(|c| c["payload"]["text"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn an_outage_is_ridden_out_and_everything_arrives_once_in_order() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    // The webhook is down (503) for the first three calls, then recovers.
    Mock::given(method("POST"))
        .and(path(format!("{}/message-from-agent", conn.webhook_path)))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&app.botpress)
        .await;
    webhook_answers(&app, &conn, 200).await;
    let (_, ticket, ana) = taken_ticket(&app, &conn).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            backend::tickets::send_message(
                &app.services,
                ticket,
                ana.id,
                "text",
                &json!({"text": format!("r{i}")}),
            )
            .await
            .unwrap(),
        );
    }
    let (state, _) = delivery(&app, ids[0]).await;
    assert_eq!(state.as_deref(), Some("pending"));
    for id in &ids {
        wait_delivery(&app, *id, "sent").await;
    }
    let delivered = replies_received(&app.botpress).await;
    // Three refused attempts of the first message, then each message once, in order.
    assert_eq!(delivered.len(), 6, "{delivered:?}");
    assert!(delivered[..3].iter().all(|t| t == "r0"), "{delivered:?}");
    assert_eq!(delivered[3..], ["r0", "r1", "r2"]);
    let error: Option<String> = crate::sql!(
        app,
        sqlx::query_scalar("select last_outbound_error from connections where id = $1")
            .bind(conn.id),
        fetch_one
    )
    .unwrap();
    assert!(
        error.unwrap().contains("503"),
        "the connection's health shows the outage"
    );
}

#[tokio::test]
async fn a_refused_message_fails_with_the_reason_and_can_be_resent() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    Mock::given(method("POST"))
        .and(path(format!("{}/message-from-agent", conn.webhook_path)))
        .respond_with(ResponseTemplate::new(400).set_body_string(r#"{"code":400}"#))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.botpress)
        .await;
    webhook_answers(&app, &conn, 200).await;
    let (_, ticket, ana) = taken_ticket(&app, &conn).await;
    let message = reply(&app, ticket, &ana, "hi").await;
    let error = wait_delivery(&app, message, "failed").await;
    assert!(error.unwrap().contains("400"));
    let calls = format!("{}/message-from-agent", conn.webhook_path);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.webhook_calls(&calls).await.len(),
        1,
        "a 400 is not retried"
    );

    backend::tickets::resend(&app.services, message, &by(&app, ana.id).await)
        .await
        .unwrap();
    wait_delivery(&app, message, "sent").await;
    assert_eq!(app.webhook_calls(&calls).await.len(), 2);
    let err = backend::tickets::resend(&app.services, message, &by(&app, ana.id).await)
        .await
        .unwrap_err();
    assert!(
        matches!(err, backend::Error::Conflict(_)),
        "a sent message is not resent"
    );
}

#[tokio::test]
async fn a_timeout_after_sending_is_failed_not_retried() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    Mock::given(method("POST"))
        .and(path(format!("{}/message-from-agent", conn.webhook_path)))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
        .mount(&app.botpress)
        .await;
    webhook_answers(&app, &conn, 200).await;
    let (_, ticket, ana) = taken_ticket(&app, &conn).await;
    let message = reply(&app, ticket, &ana, "slow").await;
    let error = wait_delivery(&app, message, "failed").await.unwrap();
    assert!(error.contains("may have been delivered"), "{error}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = app
        .webhook_calls(&format!("{}/message-from-agent", conn.webhook_path))
        .await;
    assert_eq!(calls.len(), 1, "never sent twice behind the agent's back");
}

#[tokio::test]
async fn replies_still_queued_when_the_customer_leaves_are_failed_with_the_reason() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.botpress)
        .await;
    let (remote, ticket, ana) = taken_ticket(&app, &conn).await;
    let message = reply(&app, ticket, &ana, "hello?").await;
    app.end_notice(&conn, &remote).await;
    let (state, error) = delivery(&app, message).await;
    assert_eq!(state.as_deref(), Some("failed"));
    assert!(error.unwrap().contains("ended"));
    let err = backend::tickets::send_message(
        &app.services,
        ticket,
        ana.id,
        "text",
        &json!({"text": "late"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, backend::Error::Conflict(_)),
        "the composer is locked once closed"
    );
}

#[tokio::test]
async fn agents_send_only_what_the_plugin_relays_and_only_on_their_tickets() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let (_, ticket) = live_ticket(&app, &conn).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    let ben = app.agent("ben@example.com", "Ben").await;
    let err = backend::tickets::send_message(
        &app.services,
        ticket,
        ana.id,
        "text",
        &json!({"text": "hi"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, backend::Error::Conflict(_)),
        "not assigned yet"
    );
    backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    for (kind, payload) in [
        ("card", json!({"title": "Plan"})),
        ("markdown", json!({"markdown": "**x**"})),
        ("image", json!({"text": "no url"})),
    ] {
        let err = backend::tickets::send_message(&app.services, ticket, ana.id, kind, &payload)
            .await
            .unwrap_err();
        assert!(matches!(err, backend::Error::Invalid(_)), "{kind}");
    }
    let err = backend::tickets::send_message(
        &app.services,
        ticket,
        ben.id,
        "text",
        &json!({"text": "hi"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, backend::Error::NotAllowed(_)),
        "only the holder writes"
    );
    let stored: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from messages where origin = 'agent'"),
        fetch_one
    )
    .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn the_webhook_url_never_appears_in_stored_errors() {
    let app = spawn_app().await;
    // A webhook nobody listens on: every call fails to connect and is retried.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let keyed = backend::connections::create(
        app.store(),
        backend::connections::NewConnection {
            name: "down".into(),
            webhook_url: format!("http://127.0.0.1:{port}/secret-webhook-id"),
            botpress_bot_id: None,
            botpress_token: None,
        },
    )
    .await
    .unwrap();
    let conn = TestConnection {
        id: keyed.connection.id,
        endpoint: keyed.endpoint_url(&app.address),
        token: keyed.endpoint_token,
        webhook_path: String::new(),
    };
    taken_ticket(&app, &conn).await;
    let error = eventually(10, "a recorded connection error", || async {
        backend::connections::get(app.store(), conn.id)
            .await
            .unwrap()
            .last_outbound_error
    })
    .await;
    assert!(error.contains("cannot connect"), "{error}");
    let stored: Vec<String> = crate::sql!(app, sqlx::query_scalar(
        "select last_error from outbox where last_error is not null
         union all select last_outbound_error from connections where last_outbound_error is not null",
    ), fetch_all)
    .unwrap();
    assert!(!stored.is_empty());
    for text in stored {
        assert!(
            !text.contains("secret-webhook-id") && !text.contains(&port.to_string()),
            "{text}"
        );
    }
}
