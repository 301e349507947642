//! With a bot id and access token, Baton asks the Botpress API what hitl-api does not
//! tell: which ticket a closeRemoteTicket is for, and the conversation before handoff.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, eventually, spawn_app};

async fn close_state(app: &TestApp) -> (String, Option<String>, Option<i64>) {
    crate::sql!(
        app,
        sqlx::query_as(
            "select state, mapped_by, ticket_id from close_requests order by id desc limit 1",
        ),
        fetch_one
    )
    .unwrap()
}

fn conversation(id: &str, ticket: &str, upstream: &str) -> serde_json::Value {
    json!({"id": id, "createdAt": "2026-03-02T14:01:07.000Z", "updatedAt": "2026-03-02T14:20:55.000Z",
           "channel": "hitl", "integration": "plus/hitl-api",
           "tags": {"plus/hitl-api:externalId": ticket, "hitl#upstream": upstream,
                    "hitl#hitlEndReason": "patient-used-termination-command"}})
}

#[tokio::test]
async fn close_remote_ticket_is_mapped_through_the_botpress_api() {
    let app = spawn_app().await;
    let conn = app.connection("support", true).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let decoy = app.escalate(&conn, "Decoy").await;
    let remote = app.escalate(&conn, "Real").await;
    // The decoy got an end notice, so the heuristic alone would pick the wrong ticket.
    app.user_says(
        &conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "bye"}),
    )
    .await;
    app.end_notice(&conn, &decoy).await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations/conv_real"))
        .and(header("authorization", "Bearer bp_pat_test"))
        .and(header("x-bot-id", "bot_test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "conversation": conversation("conv_real", &remote, "conv_up")})))
        .mount(&app.botpress)
        .await;

    let response = app.close_remote(&conn, "conv_real").await;
    assert_eq!(response.status(), 200, "answered before the lookup");
    let ticket = app.ticket_id(&conn, &remote).await;
    let (state, by, mapped) = eventually(10, "the API mapping", || async {
        let s = close_state(&app).await;
        (s.0 == "mapped").then_some(s)
    })
    .await;
    assert_eq!(
        (state.as_str(), by.as_deref(), mapped),
        ("mapped", Some("api"), Some(ticket))
    );
    let t = backend::tickets::get(app.store(), ticket).await.unwrap();
    assert_eq!(t.status.as_str(), "closed");
    assert_eq!(t.closed_reason.map(|r| r.as_str()), Some("bot_closed"));
    assert_eq!(t.botpress_conversation_id.as_deref(), Some("conv_real"));
}

#[tokio::test]
async fn an_unknown_conversation_falls_back_to_the_end_notice() {
    let app = spawn_app().await;
    let conn = app.connection("support", true).await;
    let remote = app.escalate(&conn, "Help").await;
    app.end_notice(&conn, &remote).await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations/conv_gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": 404})))
        .mount(&app.botpress)
        .await;
    app.close_remote(&conn, "conv_gone").await;
    let (_, by, ticket) = eventually(10, "the fallback mapping", || async {
        let s = close_state(&app).await;
        (s.0 != "pending").then_some(s)
    })
    .await;
    assert_eq!(by.as_deref(), Some("end_notice"));
    assert_eq!(ticket, Some(app.ticket_id(&conn, &remote).await));
}

#[tokio::test]
async fn unmapped_closes_are_retried_when_credentials_arrive() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let remote = app.escalate(&conn, "Help").await;
    app.close_remote(&conn, "conv_late").await;
    assert_eq!(close_state(&app).await.0, "unmapped");

    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations/conv_late"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "conversation": conversation("conv_late", &remote, "conv_up")})))
        .mount(&app.botpress)
        .await;
    let complete = backend::connections::set_api_credentials(
        app.store(),
        conn.id,
        Some("bot_test".into()),
        Some("bp_pat_test".into()),
    )
    .await
    .unwrap();
    assert!(complete);
    backend::botpress::sync::credentials_added(&app.services, conn.id)
        .await
        .unwrap();
    let (_, by, _) = eventually(10, "the retried mapping", || async {
        let s = close_state(&app).await;
        (s.0 == "mapped").then_some(s)
    })
    .await;
    assert_eq!(by.as_deref(), Some("api"));
}

#[tokio::test]
async fn a_new_ticket_gets_its_botpress_conversation_and_the_bot_transcript() {
    let app = spawn_app().await;
    let conn = app.connection("support", true).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(&conn, "Refund").await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations"))
        .and(query_param("channel", "hitl"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "conversations": [conversation("conv_other", "tkt_someone_else", "conv_x"),
                              conversation("conv_mine", &remote, "conv_up")],
            "meta": {}})))
        .mount(&app.botpress)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/messages"))
        .and(query_param("conversationId", "conv_up"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [
                {"id": "m2", "createdAt": "2026-03-02T14:00:05.000Z", "type": "text",
                 "payload": {"text": "I can help with refunds. Order number?"}, "direction": "outgoing",
                 "userId": "bot", "conversationId": "conv_up", "tags": {}},
                {"id": "m1", "createdAt": "2026-03-02T14:00:01.000Z", "type": "text",
                 "payload": {"text": "I want a refund"}, "direction": "incoming",
                 "userId": "user_up", "conversationId": "conv_up", "tags": {}},
                {"id": "m3", "createdAt": "2026-03-02T14:00:09.000Z", "type": "choice",
                 "payload": {"text": "Talk to a human?", "options": [{"label": "Yes", "value": "y"}]},
                 "direction": "outgoing", "userId": "bot", "conversationId": "conv_up", "tags": {}},
                // Relayed during the handoff (after the ticket was created): already in
                // the ticket, so not part of the transcript.
                {"id": "m4", "createdAt": "2099-01-01T00:00:00.000Z", "type": "text",
                 "payload": {"text": "hello agent"}, "direction": "incoming",
                 "userId": "user_up", "conversationId": "conv_up", "tags": {}}],
            "meta": {}})))
        .mount(&app.botpress)
        .await;
    app.user_says(
        &conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "hello agent"}),
    )
    .await;

    let ticket = app.ticket_id(&conn, &remote).await;
    eventually(15, "the sync", || async {
        let state: String = crate::sql!(
            app,
            sqlx::query_scalar("select sync_state from tickets where id = $1").bind(ticket),
            fetch_one
        )
        .unwrap();
        (state == "done").then_some(())
    })
    .await;
    let t = backend::tickets::get(app.store(), ticket).await.unwrap();
    assert_eq!(t.botpress_conversation_id.as_deref(), Some("conv_mine"));
    let transcript: Vec<(String, String, String)> = crate::sql!(
        app,
        sqlx::query_as(
            "select origin, type, payload ->> 'text' from messages
         where ticket_id = $1 and origin like 'transcript%' order by sent_at",
        )
        .bind(ticket),
        fetch_all
    )
    .unwrap();
    assert_eq!(
        transcript,
        [
            (
                "transcript_customer".into(),
                "text".into(),
                "I want a refund".into()
            ),
            (
                "transcript_bot".into(),
                "text".into(),
                "I can help with refunds. Order number?".into()
            ),
            (
                "transcript_bot".into(),
                "choice".into(),
                "Talk to a human?".into()
            ),
        ]
    );

    // Knowing the conversation, a later close maps at once without asking again.
    app.close_remote(&conn, "conv_mine").await;
    let (state, by, _) = close_state(&app).await;
    assert_eq!((state.as_str(), by.as_deref()), ("mapped", Some("known")));
}

#[tokio::test]
async fn a_late_retry_never_pairs_an_old_close_with_a_new_notice() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    app.close_remote(&conn, "conv_old").await;
    assert_eq!(close_state(&app).await.0, "unmapped");
    // An hour later another ticket ends, then credentials are added; the API does not
    // know the old conversation, and the fresh notice must not be taken for its.
    crate::sql!(
        app,
        sqlx::query("update close_requests set received_at = received_at - 3600000"),
        execute
    )
    .unwrap();
    let fresh = app.escalate(&conn, "Fresh").await;
    app.end_notice(&conn, &fresh).await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations/conv_old"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.botpress)
        .await;
    backend::connections::set_api_credentials(
        app.store(),
        conn.id,
        Some("bot_test".into()),
        Some("bp_pat_test".into()),
    )
    .await
    .unwrap();
    backend::botpress::sync::credentials_added(&app.services, conn.id)
        .await
        .unwrap();
    let (state, _, ticket) = eventually(10, "the retry", || async {
        let s = close_state(&app).await;
        let attempts: i64 = crate::sql!(
            app,
            sqlx::query_scalar("select attempts from close_requests"),
            fetch_one
        )
        .unwrap();
        (s.0 != "pending" && attempts > 0).then_some(s)
    })
    .await;
    assert_eq!((state.as_str(), ticket), ("unmapped", None));
    let fresh = backend::tickets::get(app.store(), app.ticket_id(&conn, &fresh).await)
        .await
        .unwrap();
    assert_eq!(fresh.botpress_conversation_id, None);
}
