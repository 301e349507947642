//! Private notes: any colleague writes them, mentions alert the one named, the
//! Mentions view and its count follow, and Botpress never hears of them.

use backend::users::Role;
use serde_json::json;

use serde_json::Value;

use crate::helpers::{TestApp, call, live_ticket, replies_received, spawn_app, token};
use crate::realtime::{Auth, Ws, next, open};

/// A program's websocket, past its hello frame.
async fn socket(app: &TestApp, token: &str) -> Ws {
    let mut ws = open(app, Auth::Bearer(token), None, None).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    ws
}

/// The frames up to and including the first that `wanted` picks.
async fn frames_until(ws: &mut Ws, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = next(ws).await;
        let done = wanted(&frame);
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_note_reaches_colleagues_and_mentions_but_never_botpress() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let ben = token(&app, "ben@example.com", Role::Agent).await;
    let remote = live_ticket(&app, &conn, "Damaged sofa").await;
    let ticket_path = format!("/api/v1/tickets/{remote}");
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{ticket_path}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);

    // Ben, who does not hold the ticket, writes a note that mentions Ana by email.
    let mut ben_events = socket(&app, &ben.token).await;
    let mut ana_events = socket(&app, &ana.token).await;
    let (status, note) = call(
        &app,
        &ben.token,
        "POST",
        &format!("{ticket_path}/notes"),
        Some(json!({"text": "  @ana@example.com the photos show transport damage  "})),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["kind"], "note");
    assert_eq!(
        note["text"],
        "@ana@example.com the photos show transport damage"
    );
    assert_eq!(note["author_id"], ben.user.public_id.as_str());
    assert_eq!(note["mentions"], json!(["ana@example.com"]));

    // Both hear of the note; only Ana hears she was mentioned.
    let id = note["id"].as_i64().unwrap();
    let ana_saw = frames_until(&mut ana_events, |e| e["type"] == "mentioned").await;
    let mention = ana_saw.last().unwrap();
    assert_eq!(mention["ticket"], remote.as_str());
    assert_eq!(mention["note"], id);
    // Ana's mention is published before the note itself, so Ben would have it first.
    let ben_saw = frames_until(&mut ben_events, |e| e["type"] == "note_added").await;
    assert_eq!(ben_saw.last().unwrap()["note"], id);
    assert!(
        ben_saw.iter().all(|e| e["type"] != "mentioned"),
        "{ben_saw:?}"
    );

    // The ticket read carries the note, marked as one, apart from the messages.
    let (_, read) = call(&app, &ana.token, "GET", &ticket_path, None).await;
    assert_eq!(read["notes"].as_array().unwrap().len(), 1, "{read}");
    assert_eq!(read["notes"][0]["author_name"], "ben@example.com");
    let messages = read["messages"].to_string();
    assert!(!messages.contains("transport damage"), "{messages}");

    // Ana's Mentions view and count have the ticket until she opens it.
    let counts = backend::tickets::views::counts(app.store(), ana.user.id)
        .await
        .unwrap();
    assert_eq!(counts.mentions, 1);
    let page = backend::tickets::views::list(
        app.store(),
        backend::tickets::views::View::Mentions,
        ana.user.id,
        None,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].remote_id, remote);
    let ticket = app.ticket_id(&conn, &remote).await;
    backend::tickets::reads::mark_read(&app.services, ana.user.id, ticket)
        .await
        .unwrap();
    let counts = backend::tickets::views::counts(app.store(), ana.user.id)
        .await
        .unwrap();
    assert_eq!(counts.mentions, 0, "opening the ticket sees the mention");
    let counts = backend::tickets::views::counts(app.store(), ben.user.id)
        .await
        .unwrap();
    assert_eq!(counts.mentions, 0, "the author is not mentioned");

    // A reply still reaches Botpress; the note never does.
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{ticket_path}/messages"),
        Some(json!({"text": "We will refund you in full."})),
    )
    .await;
    assert_eq!(status, 201);
    let sent = crate::helpers::eventually(10, "the reply is delivered", || async {
        let sent = replies_received(&app.botpress).await;
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert_eq!(sent, ["We will refund you in full."]);
    let everything: String = app
        .botpress
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(everything.contains("refund you in full"));
    assert!(!everything.contains("transport damage"), "{everything}");
}

#[tokio::test]
async fn bad_notes_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let remote = app.escalate(&conn, "Question").await;
    let path = format!("/api/v1/tickets/{remote}/notes");
    for (body, why) in [
        (json!({"text": "  \n "}), "the note is empty"),
        (json!({"text": "x".repeat(5_001)}), "the most is 5000"),
        (json!({}), "text"),
        (json!({"text": 5}), "text"),
    ] {
        let (status, answer) = call(&app, &ana.token, "POST", &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        "/api/v1/tickets/tkt_nope/notes",
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(status, 404);
    let (_, read) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/tickets/{remote}"),
        None,
    )
    .await;
    assert_eq!(read["notes"], json!([]));
}
