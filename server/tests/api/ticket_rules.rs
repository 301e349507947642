//! Who may act on a ticket, and the record of who did: any agent takes a queued
//! ticket; once it is held, only the holder or an admin transfers, closes or takes it
//! over, and only the holder replies and resends; anyone writes a private note.
//! Every change of hands or state leaves an activity line in the conversation and a
//! `ticket.` entry in the audit log.

use backend::users::Role;
use serde_json::{Value, json};

use crate::authz::SERVER_FNS;
use crate::helpers::{PASSWORD, TestApp, by, call, live_ticket, spawn_app};

/// The server functions that act on one ticket, with a body naming it, and who may
/// call them on a ticket a colleague holds. Reading it is for everyone.
const TICKET_FNS: &[(&str, &str, Rule)] = &[
    ("inbox/ticket", "id={ticket}", Rule::Anyone),
    ("inbox/read", "id={ticket}", Rule::Anyone),
    ("inbox/take", "id={ticket}", Rule::HolderOrAdmin),
    (
        "inbox/transfer",
        "id={ticket}&agent={agent}",
        Rule::HolderOrAdmin,
    ),
    ("inbox/close", "id={ticket}", Rule::HolderOrAdmin),
    ("inbox/reply", "id={ticket}&text=hello", Rule::Holder),
    ("inbox/resend", "message={message}", Rule::Holder),
    // A note is how a colleague who does not hold the ticket helps the one who does.
    ("inbox/note", "id={ticket}&text=a+note+for+Bo", Rule::Anyone),
    // Whom a note may mention: reading, for everyone who sees the ticket.
    ("inbox/mentionable", "id={ticket}", Rule::Anyone),
    // Labels sort the team's work; anyone may put them on.
    (
        "inbox/label",
        "id={ticket}&label={label}&on=true",
        Rule::Anyone,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Anyone,
    HolderOrAdmin,
    Holder,
}

/// A live ticket that Bo holds, with one message of Bo's.
async fn bos_ticket(app: &TestApp) -> (String, i64, backend::users::User, i64) {
    app.accept_webhooks().await;
    let conn = app.connection("support", false).await;
    let remote = live_ticket(app, &conn, "Bo's conversation").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let bo = app.agent("bo@example.com", "Bo").await;
    backend::tickets::assign(&app.services, ticket, bo.id, &by(app, bo.id).await)
        .await
        .unwrap();
    let message = backend::tickets::send_message(
        &app.services,
        ticket,
        bo.id,
        "text",
        &json!({"text": "Hi, Bo here"}),
    )
    .await
    .unwrap();
    (remote, ticket, bo, message)
}

async fn state(app: &TestApp, ticket: i64) -> (String, Option<i64>, i64, i64) {
    let t = backend::tickets::get(app.store(), ticket).await.unwrap();
    let outbox: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from outbox"),
        fetch_one
    )
    .unwrap();
    let messages: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from messages"),
        fetch_one
    )
    .unwrap();
    (t.status.to_string(), t.assignee_id, outbox, messages)
}

#[test]
fn every_ticket_server_function_has_a_rule() {
    let listed: Vec<&str> = TICKET_FNS.iter().map(|(f, ..)| *f).collect();
    for (endpoint, _, body) in SERVER_FNS {
        if body.contains("id=tkt_") || body.contains("message=") {
            assert!(
                listed.contains(endpoint),
                "{endpoint} acts on a ticket but has no rule here"
            );
        }
    }
}

#[tokio::test]
async fn an_agent_cannot_act_on_a_colleagues_ticket_and_changes_nothing() {
    let app = spawn_app().await;
    let (remote, ticket, bo, message) = bos_ticket(&app).await;
    let ana = app.signed_in("ana@example.com", Role::Agent).await;
    let ana_user = ana.user.clone();
    let (_, ana_token) = backend::accounts::create_token(app.store(), ana_user.id, "t")
        .await
        .unwrap();
    let admin = backend::users::create(app.store(), "lead@example.com", "Lead", Role::Admin)
        .await
        .unwrap();
    let label = backend::labels::create(
        &*app.services.store,
        &admin,
        &backend::audit::Actor::cli(),
        "Refund",
        "#b42318",
    )
    .await
    .unwrap();
    let before = state(&app, ticket).await;

    for (endpoint, body, rule) in TICKET_FNS {
        let body = body
            .replace("{ticket}", &remote)
            .replace("{agent}", &ana_user.public_id)
            .replace("{message}", &message.to_string())
            .replace("{label}", &label.id.to_string());
        let response = app.call_fn(endpoint, Some(&ana), &body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        match rule {
            Rule::Anyone => assert_eq!(status, 200, "{endpoint}: {text}"),
            Rule::HolderOrAdmin | Rule::Holder => {
                assert_eq!(status, 403, "{endpoint}: {text}");
                let error: Value = serde_json::from_str(&text).unwrap();
                assert!(error["NotAllowed"].is_string(), "{endpoint}: {text}");
            }
        }
    }
    // The same through the REST API.
    for (path, body) in [
        (format!("/api/v1/tickets/{remote}/assign"), Some(json!({}))),
        (
            format!("/api/v1/tickets/{remote}/assign"),
            Some(json!({"agent_id": ana_user.public_id})),
        ),
        (
            format!("/api/v1/tickets/{remote}/messages"),
            Some(json!({"text": "hello"})),
        ),
        (format!("/api/v1/tickets/{remote}/close"), None),
    ] {
        let (status, answer) = call(&app, &ana_token, "POST", &path, body).await;
        assert_eq!(status, 403, "POST {path}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, _) = call(
        &app,
        &ana_token,
        "GET",
        &format!("/api/v1/tickets/{remote}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "reading is for everyone");

    // The page says why the actions are off, and that the email is the bot's word.
    let html = app
        .get_as(&ana, &format!("/inbox/{remote}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Held by Bo: only Bo or an admin can take it over"),
        "held note"
    );
    assert!(
        html.contains("From the bot, not verified"),
        "unverified email"
    );

    assert_eq!(state(&app, ticket).await, before, "nothing changed");
    assert_eq!(before.1, Some(bo.id));
    let ana_actions: i64 = crate::sql!(app, sqlx::query_scalar(
        "select count(*) from audit_log where action like 'ticket.%' and actor = 'ana@example.com'",
    ), fetch_one)
    .unwrap();
    assert_eq!(ana_actions, 0);
}

#[tokio::test]
async fn an_admin_may_take_over_transfer_and_close_and_everything_is_recorded() {
    let app = spawn_app().await;
    let (remote, ticket, bo, _) = bos_ticket(&app).await;
    backend::accounts::create_user(
        app.store(),
        "lead@example.com",
        "Lee",
        Role::Admin,
        Some(PASSWORD.into()),
    )
    .await
    .unwrap();
    let admin = cookie(app.login("lead@example.com", PASSWORD).await);
    let ana = app.agent("ana@example.com", "Ana").await;

    let take = app
        .call_fn("inbox/take", Some(&admin), &format!("id={remote}"))
        .await;
    assert_eq!(take.status(), 200);
    let lead = backend::accounts::find_by_email(app.store(), "lead@example.com")
        .await
        .unwrap();
    assert_eq!(state(&app, ticket).await.1, Some(lead.id));
    let transfer = app
        .call_fn(
            "inbox/transfer",
            Some(&admin),
            &format!("id={remote}&agent={}", ana.public_id),
        )
        .await;
    assert_eq!(transfer.status(), 200);
    // Ana holds it now, so Ana may hand it back.
    backend::tickets::hand_back(&app.services, ticket, &by(&app, ana.id).await)
        .await
        .unwrap();

    let lines = app.activity(ticket).await;
    assert_eq!(
        lines,
        [
            "Bo took this conversation",
            "Lee took this conversation over from Bo",
            "Lee transferred it to Ana",
            "Ana handed it back to the bot",
        ]
    );
    assert_eq!(bo.name, "Bo");
    // The conversation page shows them to agents.
    let page = app
        .call_fn("inbox/ticket", Some(&admin), &format!("id={remote}"))
        .await;
    let page: Value = page.json().await.unwrap();
    let shown: Vec<&str> = page["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert_eq!(shown, lines);

    let audit: Vec<(String, String)> = crate::sql!(
        app,
        sqlx::query_as(
            "select actor, action from audit_log where action like 'ticket.%' order by id",
        ),
        fetch_all
    )
    .unwrap();
    let audit: Vec<(&str, &str)> = audit
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        audit,
        [
            ("bo@example.com", "ticket.take"),
            ("lead@example.com", "ticket.take_over"),
            ("lead@example.com", "ticket.transfer"),
            ("ana@example.com", "ticket.hand_back"),
        ]
    );
    // The audit page filters them by the prefix.
    let page = app
        .call_fn("admin/audit", Some(&admin), "action=ticket.")
        .await;
    assert_eq!(page.status(), 200);
    let page: Value = page.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 4);
}

/// The session cookie a sign-in answer sets.
fn cookie(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_customer_writing_in_a_closed_ticket_reopens_it_on_record() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("support", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(&conn, "Help").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let ana = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();
    backend::tickets::hand_back(&app.services, ticket, &by(&app, ana.id).await)
        .await
        .unwrap();
    app.user_says(
        &conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "One more thing", "userId": "user_1"}),
    )
    .await;
    let last = app.activity(ticket).await.pop().unwrap();
    assert_eq!(last, "The customer wrote again, so it reopened");
    let reopen: (String, String) = crate::sql!(
        app,
        sqlx::query_as(
            "select actor, cast(detail as text) from audit_log where action = 'ticket.reopen'",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(reopen.0, "botpress");
    assert!(reopen.1.contains(&remote));
}
