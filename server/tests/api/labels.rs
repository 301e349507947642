//! Labels: admins define them, anyone puts them on tickets, the lists show and
//! filter by them, and bad names and colours are refused.

use backend::users::Role;
use serde_json::json;

use crate::helpers::{call, live_ticket, spawn_app, token};

#[tokio::test]
async fn admins_define_labels_agents_put_them_on_and_the_inbox_filters() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    let refund = json!({"name": " Refund ", "colour": "#B42318"});

    let (status, body) = call(
        &app,
        &ana.token,
        "POST",
        "/api/v1/labels",
        Some(refund.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, label) = call(&app, &boss.token, "POST", "/api/v1/labels", Some(refund)).await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(label["name"], "Refund");
    assert_eq!(label["colour"], "#b42318");
    let (status, body) = call(
        &app,
        &boss.token,
        "POST",
        "/api/v1/labels",
        Some(json!({"name": "REFUND", "colour": "#000000"})),
    )
    .await;
    assert_eq!(status, 409, "names are unique in any case: {body}");
    let (_, vip) = call(
        &app,
        &boss.token,
        "POST",
        "/api/v1/labels",
        Some(json!({"name": "VIP", "colour": "#ffe066"})),
    )
    .await;
    let (_, all) = call(&app, &ana.token, "GET", "/api/v1/labels", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");

    // Ana labels one of two tickets; the list shows it and filters by it.
    let labelled = live_ticket(&app, &conn, "Broken kettle").await;
    let other = live_ticket(&app, &conn, "Where is my parcel").await;
    let on = format!("/api/v1/tickets/{labelled}/labels/{}", label["id"]);
    let (status, _) = call(&app, &ana.token, "POST", &on, None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, &ana.token, "POST", &on, None).await;
    assert_eq!(status, 204, "twice is the same as once");
    let (_, page) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/tickets?status=queued&label={}", label["id"]),
        None,
    )
    .await;
    let ids: Vec<&str> = page["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [labelled.as_str()]);
    assert_eq!(page["tickets"][0]["labels"][0]["name"], "Refund");
    let (_, page) = call(
        &app,
        &ana.token,
        "GET",
        "/api/v1/tickets?status=queued",
        None,
    )
    .await;
    assert_eq!(page["tickets"].as_array().unwrap().len(), 2);
    let (_, read) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/tickets/{other}"),
        None,
    )
    .await;
    assert_eq!(read["labels"], json!([]));
    let (_, page) = call(
        &app,
        &ana.token,
        "GET",
        &format!("/api/v1/tickets?status=queued&label={}", vip["id"]),
        None,
    )
    .await;
    assert_eq!(page["tickets"], json!([]));

    // Renaming and recolouring show on the ticket; deleting takes it off, and is
    // audited.
    let ticket = app.ticket_id(&conn, &labelled).await;
    backend::labels::update(
        &app.services,
        &boss.user,
        &backend::audit::Actor::cli(),
        label["id"].as_i64().unwrap(),
        Some("Refunds".into()),
        Some("#137333".into()),
    )
    .await
    .unwrap();
    let row = backend::tickets::views::row(app.store(), ana.user.id, ticket)
        .await
        .unwrap();
    assert_eq!(row.labels[0].colour, "#137333");
    let (status, _) = call(&app, &ana.token, "DELETE", &on, None).await;
    assert_eq!(status, 204);
    let row = backend::tickets::views::row(app.store(), ana.user.id, ticket)
        .await
        .unwrap();
    assert!(row.labels.is_empty());
    // Each change is an activity line (the second, idempotent add is none), with the
    // label's name as it was when it happened.
    assert_eq!(
        app.activity(ticket).await,
        [
            "ana@example.com added the label Refund",
            "ana@example.com removed the label Refunds",
        ]
    );
    for path in [
        format!("/api/v1/tickets/{labelled}/labels/999999"),
        format!("/api/v1/tickets/{labelled}/labels/abc"),
        format!("/api/v1/tickets/tkt_nope/labels/{}", label["id"]),
    ] {
        let (status, _) = call(&app, &ana.token, "POST", &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let audit = backend::audit::list(
        app.store(),
        &backend::audit::Filter {
            action: "label".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["label.update", "label.create", "label.create"]);
}

#[tokio::test]
async fn bad_labels_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    for (body, why) in [
        (json!({"name": "", "colour": "#000000"}), "1 to 40"),
        (
            json!({"name": "x".repeat(41), "colour": "#000000"}),
            "1 to 40",
        ),
        (json!({"name": "ok", "colour": "red"}), "like #2456d3"),
        (
            json!({"name": "ok", "colour": "#000000;background:url(//evil)"}),
            "like #2456d3",
        ),
        (json!({"name": "ok"}), "colour"),
    ] {
        let (status, answer) = call(
            &app,
            &boss.token,
            "POST",
            "/api/v1/labels",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
    let (_, all) = call(&app, &boss.token, "GET", "/api/v1/labels", None).await;
    assert_eq!(all, json!([]));
}
