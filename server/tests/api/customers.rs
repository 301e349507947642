//! The customer: details Botpress sent and agents correct, every ticket, notes about
//! them, and what Botpress knows, asked on demand.

use backend::users::Role;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, TestConnection, call, spawn_app, token};
use crate::realtime::{Auth, next, open};

/// A customer with two tickets, the second with a message from Botpress's user
/// `user_proxy`; returns the customer and both tickets.
async fn customer(app: &TestApp, conn: &TestConnection) -> (String, String, String) {
    let customer = app
        .remote_user(conn, "Dana Smith", "dana@example.org")
        .await;
    let first = app.escalate(conn, "Lost parcel").await;
    app.user_says(
        conn,
        &first,
        &customer,
        json!({"type": "text", "text": "Where is it?"}),
    )
    .await;
    let second = app.escalate(conn, "Refund").await;
    app.user_says(
        conn,
        &second,
        &customer,
        json!({"type": "text", "text": "I want my money", "userId": "user_proxy"}),
    )
    .await;
    (customer, first, second)
}

#[tokio::test]
async fn the_customer_has_their_tickets_editable_details_and_notes() {
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let (cus, first, second) = customer(&app, &conn).await;
    let path = format!("/api/v1/customers/{cus}");

    let (status, body) = call(&app, &ana.token, "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["customer"]["id"], cus.as_str());
    assert_eq!(body["customer"]["name"], "Dana Smith");
    assert_eq!(body["customer"]["email"], "dana@example.org");
    assert_eq!(body["customer"]["connection"], "shop");
    let tickets: Vec<&str> = body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, [second.as_str(), first.as_str()], "newest first");
    assert_eq!(body["notes"], json!([]));
    assert_eq!(body["botpress_linked"], false);

    // An agent corrects the name and adds a phone and a company; it is audited, and
    // a later /createRemoteUser with the same email keeps the agent's name.
    let (status, edited) = call(
        &app,
        &ana.token,
        "PATCH",
        &path,
        Some(json!({"name": " Dana Smith-Jones ", "phone": "+44 20 7946 0000", "company": "Acme"})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["name"], "Dana Smith-Jones");
    assert_eq!(edited["phone"], "+44 20 7946 0000");
    assert!(edited["edited_at"].is_i64());
    let audited: i64 = crate::sql!(app, sqlx::query_scalar(
        "select count(*) from audit_log where action = 'customer.update' and cast(detail as text) like '%Smith-Jones%'",
    ), fetch_one)
    .unwrap();
    assert_eq!(audited, 1);
    let again = app.remote_user(&conn, "D. Smith", "dana@example.org").await;
    assert_eq!(again, cus, "the same customer");
    let (_, body) = call(&app, &ana.token, "GET", &path, None).await;
    assert_eq!(body["customer"]["name"], "Dana Smith-Jones");
    // Absent fields stay; empty ones clear.
    let (_, edited) = call(
        &app,
        &ana.token,
        "PATCH",
        &path,
        Some(json!({"company": ""})),
    )
    .await;
    assert_eq!(
        (&edited["company"], &edited["phone"]),
        (&Value::Null, &json!("+44 20 7946 0000"))
    );

    // A note about the customer reaches colleagues live, and shows on the customer.
    let mut ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    let (status, note) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/notes"),
        Some(json!({"text": "Prefers email over phone"})),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["author"], "ana@example.com");
    loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "customer_changed" {
            assert_eq!(frame["customer"], cus.as_str());
            break;
        }
    }
    let (_, body) = call(&app, &ana.token, "GET", &path, None).await;
    assert_eq!(body["notes"][0]["text"], "Prefers email over phone");
}

#[tokio::test]
async fn bad_customer_edits_and_notes_get_a_clear_400() {
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let (cus, _, _) = customer(&app, &conn).await;
    let path = format!("/api/v1/customers/{cus}");
    for (body, says) in [
        (
            json!({"phone": "1".repeat(41)}),
            "the phone number is 41 characters; the most is 40",
        ),
        (json!({"name": "Dana\nSmith"}), "cannot contain line breaks"),
        (json!({"nickname": "D"}), "unknown field"),
    ] {
        let (status, answer) = call(&app, &ana.token, "PATCH", &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    for (text, says) in [
        ("   ", "the note is empty"),
        (&*"x".repeat(5001), "the most is 5000"),
    ] {
        let (status, answer) = call(
            &app,
            &ana.token,
            "POST",
            &format!("{path}/notes"),
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    let (status, _) = call(
        &app,
        &ana.token,
        "GET",
        "/api/v1/customers/cus_nobody",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Without API credentials, Botpress cannot be asked, and the answer says why.
    let (status, answer) = call(&app, &ana.token, "GET", &format!("{path}/botpress"), None).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no Botpress API credentials")
    );
}

#[tokio::test]
async fn botpress_attributes_come_from_the_customers_own_botpress_user() {
    let app = spawn_app().await;
    let conn = app.connection("shop", true).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let (cus, _, _) = customer(&app, &conn).await;
    // The proxy user hitl-api made names the customer's own user, which has the tags.
    Mock::given(method("GET"))
        .and(path("/v1/chat/users/user_proxy"))
        .and(header("authorization", "Bearer bp_pat_test"))
        .and(header("x-bot-id", "bot_test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {
            "id": "user_proxy", "tags": {"hitl#upstream": "user_real"},
            "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": "2026-11-01T10:00:00.000Z"}})))
        .mount(&app.botpress)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/users/user_real"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {
            "id": "user_real", "name": "Dana", "tags": {"plan": "gold", "webchat:country": "UK"},
            "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": "2026-11-01T10:00:00.000Z"}})))
        .mount(&app.botpress)
        .await;
    let (_, body) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/customers/{cus}"),
        None,
    )
    .await;
    assert_eq!(body["botpress_linked"], true);
    let (status, user) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/customers/{cus}/botpress"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["user_id"], "user_real");
    assert_eq!(
        user["tags"],
        json!([["plan", "gold"], ["webchat:country", "UK"]])
    );
    // The token never reaches the answer.
    assert!(!user.to_string().contains("bp_pat_test"));

    // Botpress failing is a 502 that says so, not a 500.
    app.botpress.reset().await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/users/user_proxy"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.botpress)
        .await;
    let (status, answer) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/customers/{cus}/botpress"),
        None,
    )
    .await;
    assert_eq!(status, 502, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("Botpress could not be asked")
    );
}
