//! The five endpoints plus/hitl-api calls: contract, storage, and bad input.

use serde_json::{Value, json};

use crate::helpers::{TestApp, by, spawn_app};

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("select count(*) from {table}");
    crate::sql!(app, sqlx::query_scalar(&sql), fetch_one).unwrap()
}

#[tokio::test]
async fn ping_answers_2xx_and_records_the_contact() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let response = app
        .botpress_call(&conn, "ping", &json!({"type": "ping"}))
        .await;
    assert_eq!(response.status(), 200);
    let seen: Option<i64> = crate::sql!(
        app,
        sqlx::query_scalar("select last_inbound_at from connections where id = $1").bind(conn.id),
        fetch_one
    )
    .unwrap();
    assert!(seen.is_some());
}

#[tokio::test]
async fn wrong_tokens_and_routes_are_bare_404s() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let wrong = conn.endpoint.replace(&conn.token, &"0".repeat(64));
    for url in [
        format!("{wrong}/ping"),
        format!("{}/botpress/short/ping", app.address),
        format!("{}/botpress/ping", app.address),
        format!("{}/nosuchroute", conn.endpoint),
        format!("{}/ping/extra", conn.endpoint),
    ] {
        let response = app
            .client
            .post(&url)
            .json(&json!({"type": "ping"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{url}");
        assert_eq!(response.text().await.unwrap(), "", "no detail for {url}");
    }
}

#[tokio::test]
async fn a_doubled_slash_from_a_trailing_slash_base_url_works() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let response = app
        .client
        .post(format!("{}//ping", conn.endpoint))
        .json(&json!({"type": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rotating_the_token_retires_the_old_endpoint() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let keyed = backend::connections::rotate_token(app.store(), conn.id)
        .await
        .unwrap();
    let old = app
        .botpress_call(&conn, "ping", &json!({"type": "ping"}))
        .await;
    assert_eq!(old.status(), 404);
    let new = app
        .client
        .post(format!("{}/ping", keyed.endpoint_url(&app.address)))
        .json(&json!({"type": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn create_remote_user_returns_a_stable_string_id_per_email() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let dana = app
        .remote_user(&conn, "Dana Smith", "dana@example.org")
        .await;
    assert!(dana.starts_with("cus_"), "{dana}");
    // A retry or re-link for the same person: same customer, details refreshed.
    let again = app
        .botpress_call(
            &conn,
            "createRemoteUser",
            &json!({"type": "createRemoteUser", "payload": {"role": "end-user",
                "name": "Dana S.", "email": "DANA@example.org",
                "pictureUrl": "https://cdn.example.org/dana.png"}}),
        )
        .await;
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        body["id"],
        json!(dana),
        "the id is a JSON string and stable"
    );
    let other = app.remote_user(&conn, "Lee", "lee@example.org").await;
    assert_ne!(other, dana);
    let row: (Option<String>, Option<String>, Option<String>) = crate::sql!(
        app,
        sqlx::query_as("select name, email, picture_url from customers where public_id = $1")
            .bind(&dana),
        fetch_one
    )
    .unwrap();
    assert_eq!(row.0.as_deref(), Some("Dana S."));
    assert_eq!(row.1.as_deref(), Some("dana@example.org"));
    assert_eq!(row.2.as_deref(), Some("https://cdn.example.org/dana.png"));
    assert_eq!(count(&app, "customers").await, 2);
}

#[tokio::test]
async fn the_same_email_on_another_bot_is_another_customer() {
    let app = spawn_app().await;
    let a = app.connection("a", false).await;
    let b = app.connection("b", false).await;
    let in_a = app.remote_user(&a, "Dana", "dana@example.org").await;
    let in_b = app.remote_user(&b, "Dana", "dana@example.org").await;
    assert_ne!(in_a, in_b);
}

#[tokio::test]
async fn create_remote_conversation_makes_a_queued_ticket_with_a_fresh_id() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let first = app.escalate(&conn, "Refund request").await;
    let second = app.escalate(&conn, "Refund request").await;
    assert!(first.starts_with("tkt_"));
    assert_ne!(first, second, "ids are never reused");
    let ticket = backend::tickets::get(app.store(), app.ticket_id(&conn, &first).await)
        .await
        .unwrap();
    assert_eq!(ticket.title, "Refund request");
    assert_eq!(ticket.description, "from a test");
    assert_eq!(ticket.status.as_str(), "queued");
    assert_eq!(
        ticket.customer_id, None,
        "the customer is not known at creation"
    );
}

#[tokio::test]
async fn an_empty_conversation_payload_is_legal() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    for body in [
        json!({"type": "createRemoteConversation", "payload": {}}),
        json!({"type": "createRemoteConversation"}),
    ] {
        let response = app
            .botpress_call(&conn, "createRemoteConversation", &body)
            .await;
        assert_eq!(response.status(), 200);
        let id: Value = response.json().await.unwrap();
        assert!(id["id"].as_str().unwrap().starts_with("tkt_"));
    }
    assert_eq!(count(&app, "tickets").await, 2);
}

#[tokio::test]
async fn every_message_type_is_stored_whole_and_the_customer_is_bound() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let ticket = app.escalate(&conn, "Help").await;
    let payloads = [
        json!({"type": "text", "text": "It still hasn't arrived", "userId": "user_1"}),
        json!({"type": "image", "imageUrl": "https://files.example/receipt.png", "userId": "user_1"}),
        json!({"type": "audio", "audioUrl": "https://files.example/voice.ogg", "userId": "user_1"}),
        json!({"type": "video", "videoUrl": "https://files.example/howto.mp4", "userId": "user_1"}),
        json!({"type": "file", "fileUrl": "https://files.example/invoice.pdf", "title": "Invoice", "userId": "user_1"}),
        json!({"type": "bloc", "items": [{"type": "text", "payload": {"text": "Label:"}},
               {"type": "image", "payload": {"imageUrl": "https://files.example/l.png"}}], "userId": "user_1"}),
        json!({"type": "location", "latitude": 45.5, "longitude": -73.6, "userId": "user_1", "x-channel": {"k": 1}}),
    ];
    for p in &payloads {
        app.user_says(&conn, &ticket, &customer, p.clone()).await;
    }
    let id = app.ticket_id(&conn, &ticket).await;
    let rows: Vec<(String, String, String)> = crate::sql!(
        app,
        sqlx::query_as(
            "select origin, type, cast(payload as text) from messages where ticket_id = $1 order by id",
        )
        .bind(id),
        fetch_all
    )
    .unwrap();
    assert_eq!(rows.len(), payloads.len());
    for ((origin, kind, stored), sent) in rows.iter().zip(&payloads) {
        assert_eq!(origin, "customer");
        assert_eq!(kind, sent["type"].as_str().unwrap());
        let stored: Value = serde_json::from_str(stored).unwrap();
        assert_eq!(&stored, sent, "payload kept whole, unknown keys included");
    }
    let bound: String = crate::sql!(app, sqlx::query_scalar(
        "select c.public_id from tickets t join customers c on c.id = t.customer_id where t.id = $1",
    )
    .bind(id), fetch_one)
    .unwrap();
    assert_eq!(bound, customer);
}

#[tokio::test]
async fn bot_notices_are_system_notes_and_do_not_bind_a_customer() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let ticket = app.escalate(&conn, "Help").await;
    app.user_says(
        &conn,
        &ticket,
        "BOT",
        json!({"type": "text", "text": "Sorry, the user can not receive this type of message."}),
    )
    .await;
    let id = app.ticket_id(&conn, &ticket).await;
    let origin: String = crate::sql!(
        app,
        sqlx::query_scalar("select origin from messages where ticket_id = $1").bind(id),
        fetch_one
    )
    .unwrap();
    assert_eq!(origin, "system");
    let t = backend::tickets::get(app.store(), id).await.unwrap();
    assert_eq!(t.customer_id, None);
    assert_eq!(t.status.as_str(), "queued", "only the end notice closes");
}

#[tokio::test]
async fn the_end_notice_closes_the_ticket_as_ended_by_the_customer() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let ticket = app.escalate(&conn, "Help").await;
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "/end"}),
    )
    .await;
    app.end_notice(&conn, &ticket).await;
    let t = backend::tickets::get(app.store(), app.ticket_id(&conn, &ticket).await)
        .await
        .unwrap();
    assert_eq!(t.status.as_str(), "closed");
    assert_eq!(t.closed_reason.map(|r| r.as_str()), Some("customer_ended"));
}

#[tokio::test]
async fn a_message_for_an_unknown_ticket_is_kept_in_a_recovered_ticket() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    app.user_says(
        &conn,
        "tkt_from_a_restored_backup",
        "cus_unknown",
        json!({"type": "text", "text": "hello?"}),
    )
    .await;
    app.user_says(
        &conn,
        "tkt_from_a_restored_backup",
        "cus_unknown",
        json!({"type": "text", "text": "anyone?"}),
    )
    .await;
    let id = app.ticket_id(&conn, "tkt_from_a_restored_backup").await;
    let t = backend::tickets::get(app.store(), id).await.unwrap();
    assert!(t.recovered);
    assert_eq!(
        t.status.as_str(),
        "queued",
        "a person will see it in the queue"
    );
    let texts: Vec<String> = crate::sql!(
        app,
        sqlx::query_scalar(
            "select payload ->> 'text' from messages where ticket_id = $1 order by id",
        )
        .bind(id),
        fetch_all
    )
    .unwrap();
    assert_eq!(
        texts,
        ["hello?", "anyone?"],
        "both messages, one recovered ticket"
    );
    assert_eq!(count(&app, "customers").await, 1);
}

#[tokio::test]
async fn close_remote_ticket_is_mapped_by_the_end_notice_without_api_credentials() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let other = app.escalate(&conn, "Other").await;
    let ticket = app.escalate(&conn, "Help").await;
    app.user_says(
        &conn,
        &other,
        &customer,
        json!({"type": "text", "text": "hi"}),
    )
    .await;
    app.end_notice(&conn, &ticket).await;
    let response = app.close_remote(&conn, "conv_01JA").await;
    assert_eq!(response.status(), 200);
    let t = backend::tickets::get(app.store(), app.ticket_id(&conn, &ticket).await)
        .await
        .unwrap();
    assert_eq!(t.botpress_conversation_id.as_deref(), Some("conv_01JA"));
    let (state, by): (String, Option<String>) = crate::sql!(
        app,
        sqlx::query_as("select state, mapped_by from close_requests"),
        fetch_one
    )
    .unwrap();
    assert_eq!(
        (state.as_str(), by.as_deref()),
        ("mapped", Some("end_notice"))
    );
    let other = backend::tickets::get(app.store(), app.ticket_id(&conn, &other).await)
        .await
        .unwrap();
    assert_eq!(
        other.status.as_str(),
        "queued",
        "the other ticket is untouched"
    );

    // A repeat of the same close now maps instantly by the recorded id.
    app.close_remote(&conn, "conv_01JA").await;
    let by: Vec<String> = crate::sql!(
        app,
        sqlx::query_scalar("select mapped_by from close_requests order by id"),
        fetch_all
    )
    .unwrap();
    assert_eq!(by, ["end_notice", "known"]);
}

#[tokio::test]
async fn an_unmappable_close_is_still_2xx_and_kept_for_admins() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let ticket = app.escalate(&conn, "Help").await;
    let response = app.close_remote(&conn, "conv_nobody").await;
    assert_eq!(response.status(), 200);
    let state: String = crate::sql!(
        app,
        sqlx::query_scalar("select state from close_requests"),
        fetch_one
    )
    .unwrap();
    assert_eq!(state, "unmapped");
    let t = backend::tickets::get(app.store(), app.ticket_id(&conn, &ticket).await)
        .await
        .unwrap();
    assert_eq!(
        t.status.as_str(),
        "queued",
        "no ticket is closed on a guess"
    );
}

/// (route, body, expected status, text the error must contain)
fn bad_inputs() -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let big = format!(
        r#"{{"type":"botSendsMessage","remoteConversationId":"t","remoteUserId":"BOT","payload":{{"type":"text","text":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    vec![
        ("ping", b"".to_vec(), 400, "empty"),
        ("ping", b"{not json".to_vec(), 400, "not valid JSON"),
        ("ping", b"[1,2]".to_vec(), 400, "JSON object"),
        ("ping", br#"{"type":"closeRemoteTicket"}"#.to_vec(), 400, "type: expected \"ping\""),
        ("ping", br#"{"type":5}"#.to_vec(), 400, "type: must be a string"),
        ("createRemoteUser", br#"{"type":"createRemoteUser","payload":{"email":42}}"#.to_vec(), 400, "payload.email"),
        ("createRemoteUser", br#"{"type":"createRemoteUser"}"#.to_vec(), 400, "payload"),
        ("createRemoteConversation", br#"{"type":"createRemoteConversation","payload":{"title":["x"]}}"#.to_vec(), 400, "payload.title"),
        ("createRemoteConversation", br#"{"type":"createRemoteConversation","payload":"x"}"#.to_vec(), 400, "payload"),
        ("botSendsMessage", br#"{"type":"botSendsMessage","remoteConversationId":7,"remoteUserId":"BOT","payload":{"type":"text"}}"#.to_vec(), 400, "remoteConversationId"),
        ("botSendsMessage", br#"{"type":"botSendsMessage","remoteConversationId":"t","payload":{"type":"text"}}"#.to_vec(), 400, "remoteUserId"),
        ("botSendsMessage", br#"{"type":"botSendsMessage","remoteConversationId":"","remoteUserId":"BOT","payload":{"type":"text"}}"#.to_vec(), 400, "remoteConversationId: must not be empty"),
        ("botSendsMessage", br#"{"type":"botSendsMessage","remoteConversationId":"t","remoteUserId":"BOT","payload":[]}"#.to_vec(), 400, "payload"),
        ("botSendsMessage", br#"{"type":"botSendsMessage","remoteConversationId":"t","remoteUserId":"BOT","payload":{"text":"x"}}"#.to_vec(), 400, "payload.type: missing"),
        ("botSendsMessage", b"\xff\xfe\x00garbage".to_vec(), 400, "not valid JSON"),
        ("botSendsMessage", big.into_bytes(), 413, "larger than 256 KB"),
        ("closeRemoteTicket", br#"{"type":"closeRemoteTicket","payload":{}}"#.to_vec(), 400, "botpressConversationId"),
        ("closeRemoteTicket", br#"{"type":"closeRemoteTicket","payload":{"botpressConversationId":null}}"#.to_vec(), 400, "botpressConversationId"),
    ]
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    for (route, body, status, needle) in bad_inputs() {
        let response = app
            .client
            .post(format!("{}/{route}", conn.endpoint))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "/{route} ({needle})");
        let error: Value = response.json().await.unwrap();
        let message = error["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "/{route}: {message:?} should mention {needle:?}"
        );
    }
    for table in ["customers", "tickets", "messages", "close_requests"] {
        assert_eq!(count(&app, table).await, 0, "{table} stays empty");
    }
    // And the endpoint still serves.
    let ok = app
        .botpress_call(&conn, "ping", &json!({"type": "ping"}))
        .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn other_methods_are_refused() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let response = app
        .client
        .get(format!("{}/ping", conn.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn a_twin_ticket_that_never_sees_traffic_is_closed_as_abandoned() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    // Botpress retried the create: two tickets, only one gets the conversation.
    let twin = app.escalate(&conn, "Refund").await;
    let real = app.escalate(&conn, "Refund").await;
    app.user_says(
        &conn,
        &real,
        &customer,
        json!({"type": "text", "text": "hi"}),
    )
    .await;
    crate::sql!(
        app,
        sqlx::query("update tickets set created_at = created_at - 90000000"),
        execute
    )
    .unwrap();
    let cutoff = backend::clock::now_ms() - 24 * 3600 * 1000;
    let closed = backend::tickets::close_abandoned(&app.services, cutoff)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let twin = backend::tickets::get(app.store(), app.ticket_id(&conn, &twin).await)
        .await
        .unwrap();
    assert_eq!(
        (twin.status.as_str(), twin.closed_reason.map(|r| r.as_str())),
        ("closed", Some("abandoned"))
    );
    let real = backend::tickets::get(app.store(), app.ticket_id(&conn, &real).await)
        .await
        .unwrap();
    assert_eq!(real.status.as_str(), "queued");
    // A fresh ticket is left alone too.
    let fresh = app.escalate(&conn, "New").await;
    assert_eq!(
        backend::tickets::close_abandoned(&app.services, cutoff)
            .await
            .unwrap(),
        0
    );
    let fresh = backend::tickets::get(app.store(), app.ticket_id(&conn, &fresh).await)
        .await
        .unwrap();
    assert_eq!(fresh.status.as_str(), "queued");
}

#[tokio::test]
async fn a_customer_writing_in_a_closed_ticket_reopens_it() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(&conn, "Help").await;
    let id = app.ticket_id(&conn, &remote).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, id, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    backend::tickets::hand_back(&app.services, id, &by(&app, ana.id).await)
        .await
        .unwrap();
    assert_eq!(
        backend::tickets::get(app.store(), id)
            .await
            .unwrap()
            .status
            .as_str(),
        "closed"
    );
    // The /stop-hitl was lost, so Botpress still relays: the customer must be seen.
    app.user_says(
        &conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "still there?"}),
    )
    .await;
    let t = backend::tickets::get(app.store(), id).await.unwrap();
    assert_eq!(
        (t.status.as_str(), t.assignee_id, t.closed_reason),
        ("queued", None, None)
    );
    // A bot notice does not reopen.
    app.end_notice(&conn, &remote).await;
    app.user_says(
        &conn,
        &remote,
        "BOT",
        json!({"type": "text", "text": "some other notice"}),
    )
    .await;
    assert_eq!(
        backend::tickets::get(app.store(), id)
            .await
            .unwrap()
            .status
            .as_str(),
        "closed"
    );
}

#[tokio::test]
async fn interleaved_endings_pair_each_close_with_its_own_notice() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let a = app.escalate(&conn, "A").await;
    let b = app.escalate(&conn, "B").await;
    let notice = json!({"type": "text", "text": "( The user has ended the session. )"});
    app.user_says(&conn, &a, "BOT", notice.clone()).await;
    app.user_says(&conn, &b, "BOT", notice).await;
    for conv in ["conv_a", "conv_b"] {
        app.close_remote(&conn, conv).await;
    }
    let a = backend::tickets::get(app.store(), app.ticket_id(&conn, &a).await)
        .await
        .unwrap();
    let b = backend::tickets::get(app.store(), app.ticket_id(&conn, &b).await)
        .await
        .unwrap();
    assert_eq!(a.botpress_conversation_id.as_deref(), Some("conv_a"));
    assert_eq!(b.botpress_conversation_id.as_deref(), Some("conv_b"));
}
