//! Reports: the numbers of a hand-built history with known answers (across a
//! daylight-saving change), the same by REST as JSON and CSV, and the moments the
//! live paths record for them.

use backend::users::Role;
use serde_json::{Value, json};

use crate::helpers::{
    ApiClient, TestApp, TestConnection, call, eventually, spawn_app, spawn_app_with, token,
};
use crate::realtime::{Auth, next, open};

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// One stored ticket, as the live paths would have left it.
struct Past<'a> {
    bot: &'a TestConnection,
    created: &'a str,
    taken: Option<i64>,
    answered: Option<i64>,
    closed: Option<(i64, &'a str)>,
    holder: Option<&'a ApiClient>,
    messages: i64,
}

async fn store(app: &TestApp, n: usize, t: Past<'_>) {
    let created = ms(t.created);
    let after = |s: Option<i64>| s.map(|s| created + s * 1000);
    let status = match (t.closed, t.holder) {
        (Some(_), _) => "closed",
        (None, Some(_)) => "assigned",
        (None, None) => "queued",
    };
    crate::sql!(
        app,
        sqlx::query(
            "insert into tickets (connection_id, remote_id, title, status, assignee_id, created_at,
                              updated_at, taken_at, first_response_at, closed_at, closed_reason,
                              message_count, screened)
         values ($1, $2, 'past', $3, $4, $5, $6, $7, $8, $9, $10, $11, true)",
        )
        .bind(t.bot.id)
        .bind(format!("tkt_past{n}"))
        .bind(status)
        .bind(t.holder.map(|h| h.user.id))
        .bind(created)
        .bind(created)
        .bind(after(t.taken))
        .bind(after(t.answered))
        .bind(after(t.closed.map(|c| c.0)))
        .bind(t.closed.map(|c| c.1))
        .bind(t.messages),
        execute
    )
    .unwrap();
}

async fn available(app: &TestApp, who: &ApiClient, from: &str, to: Option<&str>) {
    crate::sql!(
        app,
        sqlx::query(
            "insert into availability_log (user_id, started_at, ended_at) values ($1, $2, $3)"
        )
        .bind(who.user.id)
        .bind(ms(from))
        .bind(to.map(ms)),
        execute
    )
    .unwrap();
}

async fn get(app: &TestApp, admin: &ApiClient, path: &str) -> Value {
    let (code, body) = call(app, &admin.token, "GET", path, None).await;
    assert_eq!(code, 200, "{path}: {body}");
    body
}

async fn csv(app: &TestApp, admin: &ApiClient, path: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    response.text().await.unwrap()
}

/// A CSV line as Baton writes it (every cell quoted, CRLF) from its cells separated
/// by commas; none of the cells here holds a comma or a quote.
fn quoted(cells: &str) -> String {
    let cells: Vec<String> = cells.split(',').map(|c| format!("\"{c}\"")).collect();
    format!("{}\r\n", cells.join(","))
}

const PARIS: &str = "from=2026-03-28&to=2026-03-30&tz=Europe/Paris";

#[tokio::test]
async fn a_known_history_gives_known_numbers_in_any_time_zone() {
    // The history is months old: the sweep of queued tickets that never got a message
    // (after a day, by default) would close the queued one while the test reads.
    let app = spawn_app_with(|c| c.abandon_after_hours = 8760).await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let ben = token(&app, "ben@example.org", Role::Agent).await;
    let a = app.connection("alpha", false).await;
    let b = app.connection("beta", false).await;
    let (_, team) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "Alpha team", "connection_ids": [a.id]})),
    )
    .await;
    let history = [
        // Saturday 10:00 in Paris: taken after a minute, answered after two, closed.
        Past {
            bot: &a,
            created: "2026-03-28T09:00:00Z",
            taken: Some(60),
            answered: Some(120),
            closed: Some((600, "agent_closed")),
            holder: Some(&ana),
            messages: 4,
        },
        // Sunday 10:30, the clocks went forward that night (UTC+2 now): handed back.
        Past {
            bot: &a,
            created: "2026-03-29T08:30:00Z",
            taken: Some(300),
            answered: Some(360),
            closed: Some((1800, "handed_back")),
            holder: Some(&ana),
            messages: 6,
        },
        // Monday 00:30 in Paris, still Sunday in UTC: the customer left unanswered.
        Past {
            bot: &a,
            created: "2026-03-29T22:30:00Z",
            taken: None,
            answered: None,
            closed: Some((100, "customer_ended")),
            holder: None,
            messages: 1,
        },
        // Monday 14:00, on the other bot: taken and answered, still open.
        Past {
            bot: &b,
            created: "2026-03-30T12:00:00Z",
            taken: Some(30),
            answered: Some(90),
            closed: None,
            holder: Some(&ben),
            messages: 2,
        },
        // Friday 23:59 in Paris: before the period.
        Past {
            bot: &b,
            created: "2026-03-27T22:59:00Z",
            taken: None,
            answered: None,
            closed: None,
            holder: None,
            messages: 3,
        },
        // Monday 23:59 in Paris: the period's last minute; still queued.
        Past {
            bot: &a,
            created: "2026-03-30T21:59:00Z",
            taken: None,
            answered: None,
            closed: None,
            holder: None,
            messages: 0,
        },
        // Tuesday 00:00 in Paris: after the period.
        Past {
            bot: &a,
            created: "2026-03-30T22:00:00Z",
            taken: None,
            answered: None,
            closed: None,
            holder: None,
            messages: 5,
        },
    ];
    for (n, t) in history.into_iter().enumerate() {
        store(&app, n, t).await;
    }
    // Ana: two hours on Saturday morning, and half an hour of an evening that began
    // before the period (Paris's Saturday starts at 23:00 UTC on Friday).
    available(
        &app,
        &ana,
        "2026-03-28T08:00:00Z",
        Some("2026-03-28T10:00:00Z"),
    )
    .await;
    available(
        &app,
        &ana,
        "2026-03-27T22:00:00Z",
        Some("2026-03-27T23:30:00Z"),
    )
    .await;
    // Ben: available since Monday 23:00 and still; the period ends at midnight.
    available(&app, &ben, "2026-03-30T21:00:00Z", None).await;

    let summary = get(&app, &admin, &format!("/api/v1/reports/summary?{PARIS}")).await;
    assert_eq!(
        summary,
        json!({
            "created": 5, "taken": 3, "handed_back": 1, "closed": 3, "abandoned": 1,
            "wait": {"median_s": 60.0, "p90_s": 300.0},
            "first_response": {"median_s": 120.0, "p90_s": 360.0},
            "resolution": {"median_s": 600.0, "p90_s": 1800.0},
            "messages_per_ticket": 2.6
        })
    );
    // One bot, or the team that serves it: the same four tickets.
    for filter in [
        format!("connection={}", a.id),
        format!("team={}", team["id"]),
    ] {
        let s = get(
            &app,
            &admin,
            &format!("/api/v1/reports/summary?{PARIS}&{filter}"),
        )
        .await;
        assert_eq!(s["created"], 4, "{filter}");
        assert_eq!(
            s["wait"],
            json!({"median_s": 180.0, "p90_s": 300.0}),
            "{filter}"
        );
    }
    // In UTC the same days hold other tickets: Paris's last minute of Monday and
    // Tuesday's first both fall on UTC's Monday.
    let utc = get(
        &app,
        &admin,
        "/api/v1/reports/summary?from=2026-03-28&to=2026-03-30",
    )
    .await;
    assert_eq!(utc["created"], 6);

    let shape = get(&app, &admin, &format!("/api/v1/reports/daily?{PARIS}")).await;
    let per_day: Vec<(String, i64)> = shape["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_owned(),
                d["created"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_day,
        [
            ("2026-03-28".into(), 1),
            ("2026-03-29".into(), 1),
            ("2026-03-30".into(), 3)
        ]
    );
    assert_eq!(shape["daily"][0]["wait_median_s"], 60.0);
    assert_eq!(shape["daily"][2]["first_response_median_s"], 90.0);
    let hours = &shape["by_hour"];
    let busy: Vec<(usize, usize, i64)> = (0..7)
        .flat_map(|d| (0..24).map(move |h| (d, h)))
        .filter_map(|(d, h)| {
            let n = hours[d][h].as_i64().unwrap();
            (n > 0).then_some((d, h, n))
        })
        .collect();
    assert_eq!(
        busy,
        [(0, 0, 1), (0, 14, 1), (0, 23, 1), (5, 10, 1), (6, 10, 1)]
    );

    let agents = get(&app, &admin, &format!("/api/v1/reports/agents?{PARIS}")).await;
    let row = |id: &str| {
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row(&ana.user.public_id),
        json!({"id": ana.user.public_id, "name": "ana@example.org", "handled": 2,
               "first_response_median_s": 240.0, "resolution_median_s": 1200.0,
               "available_s": 9000})
    );
    assert_eq!(
        row(&ben.user.public_id),
        json!({"id": ben.user.public_id, "name": "ben@example.org", "handled": 1,
               "first_response_median_s": 90.0, "resolution_median_s": null,
               "available_s": 3600})
    );

    // Per bot and per team: the team serves alpha only, so it has alpha's numbers.
    let alpha = json!({
        "created": 4, "taken": 2, "handed_back": 1, "closed": 3, "abandoned": 1,
        "wait": {"median_s": 180.0, "p90_s": 300.0},
        "first_response": {"median_s": 240.0, "p90_s": 360.0},
        "resolution": {"median_s": 600.0, "p90_s": 1800.0},
        "messages_per_ticket": 2.8
    });
    let groups = get(&app, &admin, &format!("/api/v1/reports/groups?{PARIS}")).await;
    assert_eq!(
        groups,
        json!({
            "connections": [
                {"id": a.id, "name": "alpha", "summary": alpha},
                {"id": b.id, "name": "beta", "summary": {
                    "created": 1, "taken": 1, "handed_back": 0, "closed": 0, "abandoned": 0,
                    "wait": {"median_s": 30.0, "p90_s": 30.0},
                    "first_response": {"median_s": 90.0, "p90_s": 90.0},
                    "resolution": {"median_s": null, "p90_s": null},
                    "messages_per_ticket": 2.0
                }},
            ],
            "teams": [{"id": team["id"], "name": "Alpha team", "summary": alpha}],
        })
    );
    // Narrowed to the team: its bots and itself only.
    let narrowed = get(
        &app,
        &admin,
        &format!("/api/v1/reports/groups?{PARIS}&team={}", team["id"]),
    )
    .await;
    assert_eq!(narrowed["connections"].as_array().unwrap().len(), 1);
    assert_eq!(narrowed["connections"][0]["name"], "alpha");
    assert_eq!(narrowed["teams"].as_array().unwrap().len(), 1);

    // The same tables as CSV.
    let per_group = csv(&app, &admin, &format!("/api/v1/reports/groups.csv?{PARIS}")).await;
    assert!(
        per_group.starts_with(r#""kind","id","name","created","taken","handed_back","#),
        "{per_group}"
    );
    for line in [
        quoted(&format!(
            "bot,{},alpha,4,2,1,3,1,180.0,300.0,240.0,360.0,600.0,1800.0,2.8",
            a.id
        )),
        quoted(&format!(
            "bot,{},beta,1,1,0,0,0,30.0,30.0,90.0,90.0,,,2.0",
            b.id
        )),
        quoted(&format!(
            "team,{},Alpha team,4,2,1,3,1,180.0,300.0,240.0,360.0,600.0,1800.0,2.8",
            team["id"]
        )),
    ] {
        assert!(per_group.contains(&line), "{line} in:\n{per_group}");
    }
    let by_hour = csv(&app, &admin, &format!("/api/v1/reports/hours.csv?{PARIS}")).await;
    let lines: Vec<&str> = by_hour.split("\r\n").collect();
    assert_eq!(lines.len(), 9, "a header, seven weekdays, the last newline");
    assert!(lines[0].starts_with(r#""weekday","00","01","#), "{by_hour}");
    assert!(lines[0].ends_with(r#","23""#), "{by_hour}");
    let monday: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(monday[0], r#""Monday""#);
    let busy: Vec<usize> = (0..24).filter(|h| monday[h + 1] == r#""1""#).collect();
    assert_eq!(busy, [0, 14, 23], "{by_hour}");
    assert!(lines[6].starts_with(r#""Saturday","#), "{by_hour}");
    assert_eq!(
        lines[6].split(',').nth(11),
        Some(r#""1""#),
        "Saturday 10:00"
    );

    assert_eq!(
        csv(
            &app,
            &admin,
            &format!("/api/v1/reports/summary.csv?{PARIS}")
        )
        .await,
        format!(
            "{}{}",
            quoted(
                "created,taken,handed_back,closed,abandoned,wait_median_s,wait_p90_s,\
                 first_response_median_s,first_response_p90_s,resolution_median_s,\
                 resolution_p90_s,messages_per_ticket"
            ),
            quoted("5,3,1,3,1,60.0,300.0,120.0,360.0,600.0,1800.0,2.6")
        )
    );
    let daily = csv(&app, &admin, &format!("/api/v1/reports/daily.csv?{PARIS}")).await;
    assert!(daily.contains(&quoted("2026-03-30,3,30.0,90.0")), "{daily}");
    let per_agent = csv(&app, &admin, &format!("/api/v1/reports/agents.csv?{PARIS}")).await;
    assert!(
        per_agent.contains(&quoted(&format!(
            "{},ana@example.org,2,240.0,1200.0,9000",
            ana.user.public_id
        ))),
        "{per_agent}"
    );
}

#[tokio::test]
async fn bad_periods_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    for (query, says) in [
        ("from=2026-03-30&to=2026-03-01", "before from"),
        ("from=yesterday&to=2026-03-01", "YYYY-MM-DD"),
        ("from=2024-01-01&to=2026-03-01", "at most 366 days"),
        (
            "from=2026-03-01&to=2026-03-02&tz=Moon/Base",
            "not a time zone",
        ),
        ("from=2026-03-01&to=2026-03-02&team=x", "team"),
    ] {
        let (code, body) = call(
            &app,
            &admin.token,
            "GET",
            &format!("/api/v1/reports/summary?{query}"),
            None,
        )
        .await;
        assert_eq!(code, 400, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    // No period at all: the REST API wants one.
    let (code, _) = call(&app, &admin.token, "GET", "/api/v1/reports/summary", None).await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn the_live_paths_record_what_reports_read() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let bot = app.connection("support", false).await;
    let ticket = crate::helpers::live_ticket(&app, &bot, "Where is my parcel").await;
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{ticket}/messages"),
        Some(json!({"text": "On its way"})),
    )
    .await;
    assert_eq!(code, 201);
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{ticket}/close"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    let row: (Option<i64>, Option<i64>, i64, i64) = crate::sql!(app, sqlx::query_as(
        "select taken_at, first_response_at, message_count, created_at from tickets where remote_id = $1",
    )
    .bind(&ticket), fetch_one)
    .unwrap();
    let (taken, answered, messages, created) = row;
    assert!(taken.unwrap() >= created && answered.unwrap() >= taken.unwrap());
    assert_eq!(messages, 2, "the customer's and the agent's, not the bot's");
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    let s = get(
        &app,
        &admin,
        &format!("/api/v1/reports/summary?from={today}&to={today}"),
    )
    .await;
    assert_eq!(
        (
            s["created"].clone(),
            s["taken"].clone(),
            s["handed_back"].clone(),
            s["closed"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(1))
    );

    // A tab open and Available is time available; closing it ends it.
    let mut ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    next(&mut ws).await;
    let open_rows = |app: &TestApp, closed: bool| {
        let db = app.services.db.clone();
        let user = ana.user.id;
        async move {
            let sql = if closed {
                "select count(*) from availability_log where user_id = $1 and ended_at is not null"
            } else {
                "select count(*) from availability_log where user_id = $1 and ended_at is null"
            };
            let n: Result<i64, sqlx::Error> = match &db {
                backend::db::Database::Sqlite(db) => {
                    sqlx::query_scalar(sql).bind(user).fetch_one(db).await
                }
                backend::db::Database::Postgres(db) => {
                    sqlx::query_scalar(sql).bind(user).fetch_one(db).await
                }
            };
            n.unwrap()
        }
    };
    eventually(5, "an open availability interval", || async {
        (open_rows(&app, false).await == 1).then_some(())
    })
    .await;
    drop(ws);
    eventually(5, "the interval to close", || async {
        (open_rows(&app, false).await == 0 && open_rows(&app, true).await == 1).then_some(())
    })
    .await;
}
