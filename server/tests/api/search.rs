//! Search: customers, ticket titles, messages and notes, open and closed, with
//! highlighted snippets, the hit's message or note, filters, and clear refusals.

use backend::users::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, call, spawn_app, token};

async fn search(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    call(app, token, "GET", &format!("/api/v1/search?{query}"), None).await
}

/// (kind, ticket) of each hit.
fn kinds(body: &Value) -> Vec<(String, String)> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_owned(),
                h["ticket"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The marked words of a hit's snippet.
fn marked(hit: &Value) -> Vec<String> {
    hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn one_box_finds_customers_tickets_messages_and_notes() {
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;

    let zoe = app
        .remote_user(&conn, "Zoë Martin", "zoe@shop.example")
        .await;
    let kettle = app.escalate(&conn, "Broken kettle").await;
    app.user_says(
        &conn,
        &kettle,
        &zoe,
        json!({"type": "text", "text": "My kettle arrived broken, order 5512"}),
    )
    .await;
    app.user_says(
        &conn,
        &kettle,
        &zoe,
        json!({"type": "choice", "text": "Pick one", "options": [{"label": "Refund", "value": "r"}]}),
    )
    .await;
    // Payloads come as Botpress sends them: options may be plain strings, or not a
    // list at all. They must not stop the indexer (nor searches, which wait for it).
    for options in [json!(["Yes", "No"]), json!("loose"), json!([1, null])] {
        app.user_says(
            &conn,
            &kettle,
            &zoe,
            json!({"type": "dropdown", "text": "Odd options", "options": options}),
        )
        .await;
    }
    let sam = app.remote_user(&conn, "Sam Reed", "sam@shop.example").await;
    let parcel = app.escalate(&conn, "Where is my parcel").await;
    app.user_says(
        &conn,
        &parcel,
        &sam,
        json!({"type": "text", "text": "Tracking says delivered"}),
    )
    .await;
    let (status, note) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{parcel}/notes"),
        Some(json!({"text": "Courier confirmed the parcel is lost"})),
    )
    .await;
    assert_eq!(status, 201, "{note}");

    // A title and a message; the message hit names the message and marks the word.
    let (status, body) = search(&app, &ana.token, "q=kettle").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        kinds(&body),
        [
            ("ticket".into(), kettle.clone()),
            ("message".into(), kettle.clone())
        ]
    );
    let message = &body["hits"][1];
    assert_eq!(marked(message), ["kettle"]);
    let said: String = crate::sql!(
        app,
        sqlx::query_scalar("select cast(payload as text) from messages where id = $1")
            .bind(message["message"].as_i64().unwrap()),
        fetch_one
    )
    .unwrap();
    assert!(said.contains("order 5512"), "{said}");
    assert_eq!(message["customer_name"], "Zoë Martin");

    // Prefixes, every word, accents folded, emails by their parts.
    let (_, body) = search(&app, &ana.token, "q=zoe").await;
    assert_eq!(kinds(&body), [("customer".into(), kettle.clone())]);
    assert_eq!(marked(&body["hits"][0]), ["Zoë"]);
    let (_, body) = search(&app, &ana.token, "q=sam%40shop.example").await;
    assert_eq!(kinds(&body), [("customer".into(), parcel.clone())]);
    let (_, body) = search(&app, &ana.token, "q=ord+551").await;
    assert_eq!(kinds(&body), [("message".into(), kettle.clone())]);
    let (_, body) = search(&app, &ana.token, "q=kettle+parcel").await;
    assert_eq!(kinds(&body), [], "every word must match");
    // What a choice offers is searchable too.
    let (_, body) = search(&app, &ana.token, "q=refund").await;
    assert_eq!(kinds(&body), [("message".into(), kettle.clone())]);

    // Notes: found, with their author and id.
    let (_, body) = search(&app, &ana.token, "q=courier").await;
    assert_eq!(kinds(&body), [("note".into(), parcel.clone())]);
    assert_eq!(body["hits"][0]["note"], note["id"]);
    assert_eq!(body["hits"][0]["author"], "ana@example.com");
    assert!(body["hits"][0]["message"].is_null());

    // Closed tickets stay findable, and the status filter tells them apart.
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{kettle}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{kettle}/close"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = search(&app, &ana.token, "q=broken&status=closed").await;
    assert_eq!(kinds(&body).len(), 2, "{body}");
    assert_eq!(body["hits"][0]["status"], "closed");
    let (_, body) = search(&app, &ana.token, "q=broken&status=queued").await;
    assert_eq!(kinds(&body), []);

    // Agent, label, connection and dates filter on the ticket.
    let me = &ana.user.public_id;
    let (_, body) = search(&app, &ana.token, &format!("q=broken+OR+parcel&agent={me}")).await;
    assert_eq!(kinds(&body), [], "all three words must match");
    let (_, body) = search(&app, &ana.token, &format!("q=kettle&agent={me}")).await;
    assert_eq!(kinds(&body).len(), 2, "Ana held the kettle ticket: {body}");
    let (_, body) = search(&app, &ana.token, &format!("q=parcel&agent={me}")).await;
    assert_eq!(kinds(&body), []);
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    let (_, label) = call(
        &app,
        &boss.token,
        "POST",
        "/api/v1/labels",
        Some(json!({"name": "Lost", "colour": "#b42318"})),
    )
    .await;
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{parcel}/labels/{}", label["id"]),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = search(&app, &ana.token, &format!("q=s&label={}", label["id"])).await;
    assert!(
        kinds(&body).iter().all(|(_, t)| *t == parcel) && !kinds(&body).is_empty(),
        "{body}"
    );
    let other = app.connection("other", false).await;
    let (_, body) = search(
        &app,
        &ana.token,
        &format!("q=kettle&connection={}", other.id),
    )
    .await;
    assert_eq!(kinds(&body), []);
    let (_, body) = search(
        &app,
        &ana.token,
        &format!("q=kettle&connection={}", conn.id),
    )
    .await;
    assert_eq!(kinds(&body).len(), 2);
    let (_, body) = search(&app, &ana.token, "q=kettle&from=2999-01-01").await;
    assert_eq!(kinds(&body), []);
    let (_, body) = search(&app, &ana.token, "q=kettle&from=2020-01-01&to=2999-12-31").await;
    assert_eq!(kinds(&body).len(), 2);
}

#[tokio::test]
async fn bad_searches_get_a_clear_400_and_anonymous_ones_401() {
    let app = spawn_app().await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let long = "a".repeat(5000);
    for (query, says) in [
        (
            format!("q={long}"),
            "at most 200 characters; this one has 5000",
        ),
        ("q=".into(), "type a word"),
        ("q=%22*%22+()".into(), "type a word"),
        ("status=queued".into(), "missing field `q`"),
        ("q=x&status=open".into(), "not a known ticket status"),
        ("q=x&agent=agt_nobody".into(), "no agent"),
        ("q=x&label=red".into(), "label must be a number"),
        ("q=x&from=yesterday".into(), "from must be a date"),
        (
            "q=x&from=2026-02-01&to=2026-01-01".into(),
            "to is before from",
        ),
        ("q=x&limit=0".into(), "limit must be between 1 and 100"),
    ] {
        let (status, body) = search(&app, &ana.token, &query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {body}");
    }
    let response = app
        .client
        .get(app.url("/api/v1/search?q=kettle"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn new_messages_are_indexed_in_the_background_within_a_second_or_so() {
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let customer = app.remote_user(&conn, "Ivy", "ivy@example.org").await;
    let ticket = app.escalate(&conn, "Batches").await;
    for n in 0..5 {
        app.user_says(
            &conn,
            &ticket,
            &customer,
            json!({"type": "text", "text": format!("batch word{n}")}),
        )
        .await;
    }
    // Nobody searches: the indexer alone catches up with the newest message.
    let newest: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select max(id) from messages"),
        fetch_one
    )
    .unwrap();
    crate::helpers::eventually(5, "the indexer to reach the newest message", || async {
        let done: i64 = crate::sql!(
            app,
            sqlx::query_scalar("select last_message_id from search_progress"),
            fetch_one
        )
        .unwrap();
        (done >= newest).then_some(())
    })
    .await;
    let indexed: i64 = crate::sql!(
        app,
        sqlx::query_scalar(
            "select count(*) from search_messages where search_messages match 'batch'",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(indexed, 5);
}

#[tokio::test]
async fn a_word_in_thousands_of_messages_and_a_rare_one_both_come_newest_first() {
    // PostgreSQL looks up a rare word in its index and walks a common one's table
    // newest first; past ten thousand matches it walks. Both must find the same.
    const MANY: i64 = 10_050;
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let customer = app.remote_user(&conn, "Uma", "uma@example.org").await;
    let ticket = app.escalate(&conn, "Chatty").await;
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "oldest everyday remark, and a zanzibar"}),
    )
    .await;
    let build = if matches!(app.services.db, backend::db::Database::Postgres(_)) {
        "jsonb_build_object"
    } else {
        "json_object"
    };
    // All in the millisecond after the first message (as an import would write
    // them): between the oldest and the newest, in the order of their numbers.
    let seeded = crate::sql!(
        app,
        sqlx::query(&format!(
            "with recursive n(i) as (select cast(1 as bigint) union all
                                     select i + 1 from n where i < $1)
             insert into messages (ticket_id, origin, type, payload, customer_id, created_at)
             select t.id, 'customer', 'text',
                    {build}('type', 'text', 'text', 'everyday remark ' || i),
                    t.customer_id,
                    (select max(created_at) + 1 from messages where ticket_id = t.id)
             from n, tickets t where t.remote_id = $2"
        ))
        .bind(MANY)
        .bind(&ticket),
        execute
    )
    .unwrap();
    assert_eq!(seeded, MANY as u64);
    app.user_says(
        &conn,
        &ticket,
        &customer,
        json!({"type": "text", "text": "newest everyday remark, and a zanzibar"}),
    )
    .await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let said = |body: &Value| -> Vec<String> {
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["kind"] == "message")
            .map(|h| {
                h["snippet"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["text"].as_str().unwrap())
                    .collect::<String>()
            })
            .collect()
    };

    // The common word: a page of hits, the newest first, then the seeded ones in
    // order.
    let (status, body) = search(&app, &ana.token, "q=everyday&limit=5").await;
    assert_eq!(status, 200, "{body}");
    let hits = said(&body);
    assert_eq!(hits.len(), 5, "{body}");
    assert!(hits[0].contains("newest everyday remark"), "{hits:?}");
    for (hit, n) in hits[1..].iter().zip((MANY - 3..=MANY).rev()) {
        assert!(hit.ends_with(&format!("everyday remark {n}")), "{hits:?}");
    }
    // The rare word: both of its messages, the newest first.
    let (_, body) = search(&app, &ana.token, "q=zanzibar").await;
    let hits = said(&body);
    assert_eq!(hits.len(), 2, "{body}");
    assert!(hits[0].contains("newest"), "{hits:?}");
    assert!(hits[1].contains("oldest"), "{hits:?}");
    // Both words: only the rare word's messages match both.
    let (_, body) = search(&app, &ana.token, "q=everyday+zanzibar").await;
    assert_eq!(said(&body).len(), 2, "{body}");
}
