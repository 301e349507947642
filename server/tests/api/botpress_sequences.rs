//! Whole HITL sessions as the Botpress plugin drives them (docs/botpress.md §8), from both
//! sides: what Baton stores, and what the bot's webhook receives.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, TestConnection, by, eventually, spawn_app};

async fn calls(app: &TestApp, conn: &TestConnection) -> Vec<(String, serde_json::Value)> {
    app.botpress
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().starts_with(&conn.webhook_path))
        .map(|r| {
            let route = r.url.path().rsplit('/').next().unwrap().to_owned();
            (route, serde_json::from_slice(&r.body).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn escalation_conversation_and_the_user_typing_end() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.botpress)
        .await;

    // §8.1: createUser, then startHitl; nothing else at start.
    let customer = app
        .remote_user(&conn, "Dana Smith", "dana@example.org")
        .await;
    let ticket = app.escalate(&conn, "Refund request").await;
    let id = app.ticket_id(&conn, &ticket).await;

    // §8.2: the user writes; an agent takes it and answers.
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "Order 5512 never came", "userId": "user_d"}),
    )
    .await;
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "image", "imageUrl": "https://files.example/r.png", "userId": "user_d"}),
    )
    .await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, id, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    let reply = backend::tickets::send_message(
        &app.services,
        id,
        ana.id,
        "text",
        &json!({"text": "Looking into it"}),
    )
    .await
    .unwrap();
    eventually(10, "the reply", || async {
        let state: Option<String> = crate::sql!(
            app,
            sqlx::query_scalar("select delivery from messages where id = $1").bind(reply),
            fetch_one
        )
        .unwrap();
        (state.as_deref() == Some("sent")).then_some(())
    })
    .await;

    // §8.3: the user types /end: the plugin posts its notice, then closes.
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "/end", "userId": "user_d"}),
    )
    .await;
    app.end_notice(&conn, &ticket).await;
    let response = app.close_remote(&conn, "conv_dana").await;
    assert_eq!(response.status(), 200);

    let t = backend::tickets::get(app.store(), id).await.unwrap();
    assert_eq!(t.status.as_str(), "closed");
    assert_eq!(t.closed_reason.map(|r| r.as_str()), Some("customer_ended"));
    assert_eq!(t.botpress_conversation_id.as_deref(), Some("conv_dana"));
    let transcript: Vec<(String, String)> = crate::sql!(
        app,
        sqlx::query_as("select origin, type from messages where ticket_id = $1 order by id")
            .bind(id),
        fetch_all
    )
    .unwrap();
    let expected: Vec<(String, String)> = [
        ("customer", "text"),
        ("customer", "image"),
        ("agent", "text"),
        ("customer", "text"),
        ("system", "text"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(transcript, expected);

    // The bot heard exactly: the assignment, then the reply. Nothing after the end.
    let routes: Vec<String> = calls(&app, &conn)
        .await
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(routes, ["agent-assigned", "message-from-agent"]);
    let err = backend::tickets::hand_back(&app.services, id, &by(&app, ana.id).await)
        .await
        .unwrap_err();
    assert!(
        matches!(err, backend::Error::Conflict(_)),
        "a closed ticket cannot be handed back"
    );
}

#[tokio::test]
async fn nobody_takes_it_before_the_assignment_timeout() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Lee", "lee@example.org").await;
    let ticket = app.escalate(&conn, "Anyone there?").await;
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "hello?"}),
    )
    .await;
    // The plugin's agent-assignment timeout: the same notice, then closeRemoteTicket.
    app.end_notice(&conn, &ticket).await;
    app.close_remote(&conn, "conv_lee").await;
    let t = backend::tickets::get(app.store(), app.ticket_id(&conn, &ticket).await)
        .await
        .unwrap();
    assert_eq!((t.status.as_str(), t.assignee_id), ("closed", None));
    assert_eq!(t.botpress_conversation_id.as_deref(), Some("conv_lee"));
    let ana = app.agent("ana@example.com", "Ana").await;
    let err = backend::tickets::assign(&app.services, t.id, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap_err();
    assert!(
        matches!(err, backend::Error::Conflict(_)),
        "too late to take it"
    );
    assert!(
        calls(&app, &conn).await.is_empty(),
        "the bot was never called"
    );
}

#[tokio::test]
async fn a_custom_end_notice_text_is_honoured() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    backend::connections::set_end_notice(app.store(), conn.id, " Session over. ")
        .await
        .unwrap();
    let ticket = app.escalate(&conn, "x").await;
    app.end_notice(&conn, &ticket).await;
    let id = app.ticket_id(&conn, &ticket).await;
    assert_eq!(
        backend::tickets::get(app.store(), id)
            .await
            .unwrap()
            .status
            .as_str(),
        "queued"
    );
    app.user_says(
        &conn,
        &ticket,
        "BOT",
        json!({"type": "text", "text": "Session over."}),
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
