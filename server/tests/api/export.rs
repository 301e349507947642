//! Exports: a conversation's transcript as text (no private notes) or JSON (with
//! them), by token or session; the admins' CSV of a date range, streamed in pages,
//! with fields that cannot turn into spreadsheet formulas (not even after a `;`).

use backend::users::Role;
use serde_json::{Value, json};

use crate::helpers::{call, live_ticket, spawn_app, token};

#[tokio::test]
async fn a_conversation_exports_as_text_and_json() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("Shop bot", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let remote = live_ticket(&app, &conn, "Broken kettle").await;
    let path = format!("/api/v1/tickets/{remote}");
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/messages"),
        Some(json!({"text": "We will send a new one."})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/notes"),
        Some(json!({"text": "Second kettle this month, check the batch."})),
    )
    .await;
    assert_eq!(status, 201);

    let response = app
        .client
        .get(app.url(&format!("{path}/transcript")))
        .bearer_auth(&ana.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{remote}.txt\"").as_str()
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with("Conversation: Broken kettle\n"), "{text}");
    assert!(
        text.contains(&format!("Ticket: {remote} (bot: Shop bot)")),
        "{text}"
    );
    assert!(text.contains("Customer: Dana <dana@example.org>"), "{text}");
    assert!(text.contains("Dana (customer): "), "{text}");
    assert!(
        text.contains("ana@example.com (agent): We will send a new one."),
        "{text}"
    );
    assert!(text.contains(" UTC] "), "{text}");
    assert!(
        !text.contains("check the batch"),
        "private notes stay out: {text}"
    );

    // JSON has everything, the note marked as one.
    let (status, body) = call(
        &app,
        &ana.token,
        "GET",
        &format!("{path}/transcript?format=json"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ticket"]["remote_id"], remote.as_str());
    assert!(body["messages"].as_array().unwrap().len() >= 2, "{body}");
    assert_eq!(
        body["notes"][0]["text"],
        "Second kettle this month, check the batch."
    );

    let (status, body) = call(
        &app,
        &ana.token,
        "GET",
        &format!("{path}/transcript?format=pdf"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("text or json"),
        "{body}"
    );
    let (status, _) = call(
        &app,
        &ana.token,
        "GET",
        "/api/v1/tickets/tkt_nope/transcript",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A signed-in browser downloads it with its session, as the page's link does.
    let browser = app.signed_in("ben@example.com", Role::Agent).await;
    let response = app.get_as(&browser, &format!("{path}/transcript")).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Broken kettle"));
    let anonymous = app.get(&format!("{path}/transcript")).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn admins_export_a_date_range_as_csv_streamed_in_pages() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    // More than one page of the stream (500 a page), and a title a spreadsheet
    // would run as a formula.
    let hostile = app
        .escalate(&conn, "=HYPERLINK(\"http://evil\",\"click\")")
        .await;
    for i in 0..520 {
        app.escalate(&conn, &format!("Ticket {i}, with a comma"))
            .await;
    }
    let today = backend::tickets::export::rfc3339(backend::clock::now_ms())[..10].to_owned();

    let response = app
        .client
        .get(app.url(&format!(
            "/api/v1/tickets/export.csv?from={today}&to={today}"
        )))
        .bearer_auth(&boss.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    let header: Vec<String> = backend::tickets::export::CSV_HEADER
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect();
    assert_eq!(lines[0], header.join(","));
    assert_eq!(lines.len(), 1 + 521, "every ticket once, across pages");
    assert!(
        lines[1].starts_with(&format!("\"{hostile}\",\"queued\",\"'=HYPERLINK(")),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",\"Ticket 0, with a comma\","),
        "{}",
        lines[2]
    );
    let unique: std::collections::HashSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(unique.len(), 521);

    // Nothing before the range; an agent may not; bad dates are explained.
    let (status, _) = call(
        &app,
        &boss.token,
        "GET",
        "/api/v1/tickets/export.csv?to=2020-01-01",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let response = app
        .client
        .get(app.url("/api/v1/tickets/export.csv?to=2020-01-01"))
        .bearer_auth(&boss.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap().lines().count(),
        1,
        "just the header"
    );
    let (status, body) = call(&app, &ana.token, "GET", "/api/v1/tickets/export.csv", None).await;
    assert_eq!(status, 403, "{body}");
    for (query, why) in [
        ("from=28/11/2026", "like 2026-11-28"),
        ("from=2026-02-30", "like 2026-11-28"),
        ("from=2026-11-28&to=2026-11-01", "before"),
    ] {
        let (status, body): (u16, Value) = call(
            &app,
            &boss.token,
            "GET",
            &format!("/api/v1/tickets/export.csv?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"].as_str().unwrap().contains(why),
            "{query}: {body}"
        );
    }
    let audit = backend::audit::list(
        app.store(),
        &backend::audit::Filter {
            action: "tickets.export".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(audit.len(), 3, "each export an admin made is on record");
}

#[tokio::test]
async fn a_formula_after_a_separator_does_not_reach_the_spreadsheet() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    // A spreadsheet that splits cells at `;` would read `=1+1` as a cell of its own.
    let remote = app.escalate(&conn, "x;=1+1").await;

    let response = app
        .client
        .get(app.url("/api/v1/tickets/export.csv"))
        .bearer_auth(&boss.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let row = csv
        .split("\r\n")
        .find(|l| l.starts_with(&format!("\"{remote}\",")))
        .unwrap_or_else(|| panic!("no row for {remote} in:\n{csv}"));
    assert!(row.contains(r#","x;'=1+1","#), "{row}");
    assert!(!row.contains(";=1+1"), "{row}");
}
