//! `/ws`: authentication before the upgrade, numbered events, catch-up after a drop,
//! presence, and sockets closing when access ends.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::helpers::{
    ApiClient, Browser, TestApp, call, eventually, live_ticket, spawn_app, token,
};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub enum Auth<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
}

pub async fn open(
    app: &TestApp,
    auth: Auth<'_>,
    origin: Option<&str>,
    since: Option<&str>,
) -> Result<Ws, WsError> {
    open_at(&app.address, auth, origin, since).await
}

/// [`open`] on the server at `address` (`http://host:port`).
pub async fn open_at(
    address: &str,
    auth: Auth<'_>,
    origin: Option<&str>,
    since: Option<&str>,
) -> Result<Ws, WsError> {
    let base = address.replacen("http://", "ws://", 1);
    let url = match since {
        Some(s) => format!("{base}/ws?since={s}"),
        None => format!("{base}/ws"),
    };
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    match auth {
        Auth::None => {}
        Auth::Cookie(c) => {
            headers.insert("cookie", c.parse().unwrap());
        }
        Auth::Bearer(t) => {
            headers.insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
    }
    if let Some(o) = origin {
        headers.insert("origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

/// The next JSON frame that is not a heartbeat, within 5 s.
pub(crate) async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] != "heartbeat" {
                return v;
            }
        }
    }
}

/// The next event about tickets (presence comes and goes as tabs open and close).
async fn next_change(ws: &mut Ws) -> Value {
    loop {
        let e = next(ws).await;
        if e["type"] != "presence" {
            return e;
        }
    }
}

/// Reads frames until the server closes; returns the close code.
async fn closed_with(ws: &mut Ws, within: Duration) -> u16 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the server closes the socket in time");
        match frame {
            Some(Ok(Message::Close(Some(f)))) => return u16::from(f.code),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 0,
            Some(Ok(_)) => {}
        }
    }
}

fn status_of(e: WsError) -> u16 {
    match e {
        WsError::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn strangers_and_other_sites_are_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let anonymous = open(&app, Auth::None, Some(&app.address), None).await;
    assert_eq!(status_of(anonymous.err().unwrap()), 401);
    let bad_token = open(&app, Auth::Bearer("nope"), None, None).await;
    assert_eq!(status_of(bad_token.err().unwrap()), 401);

    let cookie = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let cross_site = open(
        &app,
        Auth::Cookie(&cookie),
        Some("https://evil.example"),
        None,
    )
    .await;
    assert_eq!(status_of(cross_site.err().unwrap()), 403);
    let no_origin = open(&app, Auth::Cookie(&cookie), None, None).await;
    assert_eq!(status_of(no_origin.err().unwrap()), 403);

    let mut ws = open(&app, Auth::Cookie(&cookie), Some(&app.address), None)
        .await
        .unwrap();
    let hello = next(&mut ws).await;
    assert_eq!(hello["type"], "hello");
    assert!(hello["epoch"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn agents_see_every_change_numbered_and_catch_up_after_a_drop() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("Shop", false).await;
    let cookie = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let bob = token(&app, "bob@example.org", backend::users::Role::Agent).await;

    let mut ws = open(&app, Auth::Cookie(&cookie), Some(&app.address), None)
        .await
        .unwrap();
    let hello = next(&mut ws).await;
    let epoch = hello["epoch"].as_str().unwrap().to_owned();

    let ticket = live_ticket(&app, &conn, "Refund").await;
    let created = next(&mut ws).await;
    assert_eq!(created["type"], "ticket_created");
    assert_eq!(created["ticket"], ticket.as_str());
    let said = next(&mut ws).await;
    assert_eq!(said["type"], "message_added");
    assert_eq!(said["origin"], "customer");
    assert_eq!(said["seq"].as_u64(), created["seq"].as_u64().map(|s| s + 1));

    // A program takes the ticket; the browser hears it, with the new holder.
    let (taken, _) = call(
        &app,
        &bob.token,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(taken, 200);
    let assigned = next(&mut ws).await;
    assert_eq!(assigned["type"], "assigned");
    assert_eq!(assigned["agent"], bob.user.public_id.as_str());
    let last_seen = assigned["seq"].as_u64().unwrap();

    // The tab drops; three things happen; it reconnects with the last number it saw.
    drop(ws);
    for text in ["one", "two", "three"] {
        app.user_says(
            &conn,
            &ticket,
            "cus_x",
            json!({"type": "text", "text": text}),
        )
        .await;
    }
    let since = format!("{epoch}:{last_seen}");
    let mut ws = open(
        &app,
        Auth::Cookie(&cookie),
        Some(&app.address),
        Some(&since),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    // Everything after `last_seen`, in order and without gaps: the three messages
    // and this agent's own presence going offline while the tab was away.
    let mut seqs = Vec::new();
    let mut texts = 0;
    while texts < 3 {
        let e = next(&mut ws).await;
        seqs.push(e["seq"].as_u64().unwrap());
        if e["type"] == "message_added" {
            texts += 1;
        } else {
            assert_eq!(e["type"], "presence", "{e}");
        }
    }
    let expected: Vec<u64> = (last_seen + 1..=last_seen + seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "in order, none lost");

    // From another run (the server restarted): told to refetch, not given a partial history.
    let mut ws = open(
        &app,
        Auth::Cookie(&cookie),
        Some(&app.address),
        Some("old:3"),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    assert_eq!(next(&mut ws).await["type"], "resync");
}

/// Ann, watching in a browser, and Bob, a program whose presence she sees;
/// (app, Bob, Ann's socket).
async fn watched_agent() -> (TestApp, ApiClient, Ws) {
    let app = spawn_app().await;
    let bob = token(&app, "bob@example.org", backend::users::Role::Agent).await;
    let cookie = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let mut watcher = open(&app, Auth::Cookie(&cookie), Some(&app.address), None)
        .await
        .unwrap();
    next(&mut watcher).await;
    (app, bob, watcher)
}

/// `agent`'s presence in `GET /api/v1/agents`, asked with the token `bearer`.
async fn listed_presence(app: &TestApp, bearer: &str, agent: &str) -> Option<Value> {
    let (_, agents) = call(app, bearer, "GET", "/api/v1/agents", None).await;
    agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent)
        .map(|a| a["presence"].clone())
}

#[tokio::test]
async fn presence_follows_open_sockets() {
    let (app, bob, mut watcher) = watched_agent().await;
    let (bearer, agent_id) = (&bob.token, &bob.user.public_id);
    let mut ws = open(&app, Auth::Bearer(bearer), None, None).await.unwrap();
    next(&mut ws).await;
    let online = next(&mut watcher).await;
    assert_eq!(
        (
            online["type"].as_str(),
            online["agent"].as_str(),
            online["presence"].as_str()
        ),
        (Some("presence"), Some(agent_id.as_str()), Some("online"))
    );
    ws.send(Message::text(r#"{"type":"idle"}"#)).await.unwrap();
    assert_eq!(next(&mut watcher).await["presence"], "away");
    assert_eq!(
        listed_presence(&app, bearer, agent_id).await,
        Some(json!("away"))
    );
    ws.close(None).await.unwrap();
    assert_eq!(next(&mut watcher).await["presence"], "offline");
}

/// `PUT /api/v1/me/availability` as Bob; the answer's status and body.
async fn choose(app: &TestApp, bob: &ApiClient, body: Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url("/api/v1/me/availability"))
        .bearer_auth(&bob.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_chosen_availability_is_kept_and_shown_while_a_tab_is_open() {
    let (app, bob, mut watcher) = watched_agent().await;
    let me = |app: &TestApp, bob: &ApiClient| {
        let request = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&bob.token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(me(&app, &bob).await["availability"], "available");

    // Chosen with no tab open: stored, and Bob stays offline to others.
    let (status, body) = choose(&app, &bob, json!({"status": "away"})).await;
    assert_eq!((status, body), (200, json!({"status": "away"})));
    assert_eq!(me(&app, &bob).await["availability"], "away");
    // Opening a tab shows the stored choice, not "online".
    let mut ws = open(&app, Auth::Bearer(&bob.token), None, None)
        .await
        .unwrap();
    next(&mut ws).await;
    let seen = next(&mut watcher).await;
    assert_eq!(
        (seen["type"].as_str(), seen["presence"].as_str()),
        (Some("presence"), Some("away")),
        "{seen}"
    );
    // Changing it while the tab is open reaches colleagues at once.
    let (status, _) = choose(&app, &bob, json!({"status": "available"})).await;
    assert_eq!(status, 200);
    assert_eq!(next(&mut watcher).await["presence"], "online");
    let (status, _) = choose(&app, &bob, json!({"status": "away"})).await;
    assert_eq!(status, 200);
    assert_eq!(next(&mut watcher).await["presence"], "away");
    // Closing the last tab is offline, whatever was chosen; the choice is kept.
    ws.close(None).await.unwrap();
    assert_eq!(next(&mut watcher).await["presence"], "offline");
    assert_eq!(me(&app, &bob).await["availability"], "away");
    // The list says so too, though Bob's last request was a moment ago.
    assert_eq!(
        listed_presence(&app, &bob.token, &bob.user.public_id).await,
        Some(json!("offline"))
    );

    // Offline and anything else are not choices.
    for body in [
        json!({"status": "offline"}),
        json!({"status": "busy"}),
        json!({}),
        json!({"status": "away", "until": 5}),
    ] {
        let (status, answer) = choose(&app, &bob, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    assert_eq!(me(&app, &bob).await["availability"], "away");

    // The navigation bar's server function refuses the same, and keeps the choice.
    let cara = app
        .signed_in("cara@example.org", backend::users::Role::Agent)
        .await;
    for body in ["status=offline", "status=busy", ""] {
        let response = app
            .call_fn("profile/availability/set", Some(&cara.cookie), body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
    let stored = app
        .call_fn("profile/availability", Some(&cara.cookie), "")
        .await;
    assert_eq!(stored.json::<Value>().await.unwrap(), json!("available"));
}

#[tokio::test]
async fn a_flood_of_presence_flips_reaches_others_at_most_once_a_second() {
    let (app, bob, mut watcher) = watched_agent().await;
    let (bearer, agent_id) = (&bob.token, &bob.user.public_id);
    let mut ws = open(&app, Auth::Bearer(bearer), None, None).await.unwrap();
    next(&mut ws).await;
    assert_eq!(next(&mut watcher).await["presence"], "online");
    // A hundred flips at once, ending idle.
    for i in 0..100 {
        let kind = if i % 2 == 0 { "active" } else { "idle" };
        ws.send(Message::text(format!(r#"{{"type":"{kind}"}}"#)))
            .await
            .unwrap();
    }
    // What the others see over the next 1.5 s: a couple of changes, the last one right.
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_millis(1_500);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until, watcher.next()).await {
        if let Message::Text(text) = frame {
            let e: Value = serde_json::from_str(&text).unwrap();
            if e["type"] == "presence" && e["agent"] == agent_id.as_str() {
                seen.push(e["presence"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(seen.len() <= 3, "{} presence events: {seen:?}", seen.len());
    assert_eq!(seen.last().map(String::as_str), Some("away"), "{seen:?}");
}

#[tokio::test]
async fn one_account_may_hold_only_so_many_sockets() {
    let app = spawn_app().await;
    let bearer = token(&app, "bob@example.org", backend::users::Role::Agent)
        .await
        .token;
    let other = token(&app, "eve@example.org", backend::users::Role::Agent)
        .await
        .token;
    let mut open_ones = Vec::new();
    for _ in 0..baton::http::realtime::MAX_SOCKETS_PER_ACCOUNT {
        let mut ws = open(&app, Auth::Bearer(&bearer), None, None).await.unwrap();
        next(&mut ws).await;
        open_ones.push(ws);
    }
    let refused = open(&app, Auth::Bearer(&bearer), None, None)
        .await
        .unwrap_err();
    assert_eq!(status_of(refused), 429);
    // Someone else is not affected, and closing one makes room.
    assert!(open(&app, Auth::Bearer(&other), None, None).await.is_ok());
    open_ones.pop().unwrap().close(None).await.unwrap();
    eventually(5, "room for one more", || async {
        open(&app, Auth::Bearer(&bearer), None, None)
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn sockets_close_within_a_second_when_access_ends() {
    let app = spawn_app().await;
    // Sign-out closes that session's socket.
    let cookie = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let mut ws = open(&app, Auth::Cookie(&cookie), Some(&app.address), None)
        .await
        .unwrap();
    next(&mut ws).await;
    let out = app.call_fn("auth/logout", Some(&cookie), "").await;
    assert_eq!(out.status(), 200);
    assert_eq!(closed_with(&mut ws, Duration::from_secs(1)).await, 4001);

    // A deactivation made elsewhere (the CLI is another process) is found by the sweep.
    let bearer = token(&app, "bob@example.org", backend::users::Role::Agent)
        .await
        .token;
    let mut ws = open(&app, Auth::Bearer(&bearer), None, None).await.unwrap();
    next(&mut ws).await;
    crate::sql!(
        app,
        sqlx::query(
            "update users set active = false, auth_epoch = auth_epoch + 1 where email = $1"
        )
        .bind("bob@example.org"),
        execute
    )
    .unwrap();
    assert_eq!(
        closed_with(&mut ws, Duration::from_millis(1200)).await,
        4001
    );

    // Revoking the token closes what it opened.
    let bearer = token(&app, "cy@example.org", backend::users::Role::Agent)
        .await
        .token;
    let mut ws = open(&app, Auth::Bearer(&bearer), None, None).await.unwrap();
    next(&mut ws).await;
    crate::sql!(
        app,
        sqlx::query("update api_tokens set revoked_at = 1"),
        execute
    )
    .unwrap();
    assert_eq!(
        closed_with(&mut ws, Duration::from_millis(1200)).await,
        4001
    );
}

#[tokio::test]
async fn an_oversized_frame_ends_the_socket_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let bearer = token(&app, "bob@example.org", backend::users::Role::Agent)
        .await
        .token;
    let mut ws = open(&app, Auth::Bearer(&bearer), None, None).await.unwrap();
    next(&mut ws).await;
    let _ = ws.send(Message::text("x".repeat(64 * 1024))).await;
    // A close frame that says why (1009: too big), not a dropped connection.
    let code = closed_with(&mut ws, Duration::from_secs(2)).await;
    assert_eq!(code, 1009, "closed with {code} (0: no close frame)");
    eventually(2, "the server still answers", || async {
        (app.get("/healthz").await.status() == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn read_state_is_kept_per_agent_and_follows_them_to_other_tabs() {
    let app = spawn_app().await;
    let conn = app.connection("Shop", false).await;
    let ann = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let bob = app
        .signed_in("bob@example.org", backend::users::Role::Agent)
        .await;
    let ticket = live_ticket(&app, &conn, "Unread").await;
    let unread = |cookie: Browser| {
        let app = &app;
        async move {
            let (status, page) = app
                .call_form("inbox/list", &cookie, &[("view", "queued")])
                .await;
            assert_eq!(status, 200, "{page}");
            page["rows"][0]["unread"].as_i64().unwrap()
        }
    };
    assert_eq!(
        (unread(ann.clone()).await, unread(bob.clone()).await),
        (1, 1)
    );

    // Ann's other tab hears that she read it; Bob's does not.
    let mut ann_tab = open(&app, Auth::Cookie(&ann), Some(&app.address), None)
        .await
        .unwrap();
    let mut bob_tab = open(&app, Auth::Cookie(&bob), Some(&app.address), None)
        .await
        .unwrap();
    next(&mut ann_tab).await;
    next(&mut bob_tab).await;
    let (status, _) = app.call_form("inbox/read", &ann, &[("id", &ticket)]).await;
    assert_eq!(status, 200);
    let event = next_change(&mut ann_tab).await;
    assert_eq!(
        (event["type"].as_str(), event["ticket"].as_str()),
        (Some("unread"), Some(ticket.as_str()))
    );
    assert_eq!(
        (unread(ann.clone()).await, unread(bob.clone()).await),
        (0, 1)
    );
    app.user_says(
        &conn,
        &ticket,
        "cus_x",
        json!({"type": "text", "text": "more"}),
    )
    .await;
    let seen_by_bob = next_change(&mut bob_tab).await;
    assert_eq!(
        seen_by_bob["type"], "message_added",
        "Bob never gets Ann's unread event"
    );
    assert_eq!(unread(ann).await, 1, "a new message is unread again");
}

#[tokio::test]
async fn a_socket_closes_when_its_session_expires() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ann@example.org", backend::users::Role::Agent)
        .await;
    let mut ws = open(&app, Auth::Cookie(&cookie), Some(&app.address), None)
        .await
        .unwrap();
    next(&mut ws).await;
    // A week without use ends the session, even with the tab still open.
    crate::sql!(
        app,
        sqlx::query("update tower_sessions set expiry_date = '2026-01-01T00:00:00Z'"),
        execute
    )
    .unwrap();
    assert_eq!(closed_with(&mut ws, Duration::from_secs(3)).await, 4001);
}

/// The next "who is here" frame, as (name, typing) pairs.
async fn next_here(ws: &mut Ws) -> (String, Vec<(String, bool)>) {
    loop {
        let frame = next(ws).await;
        if frame["type"] == "here" {
            return (
                frame["ticket"].as_str().unwrap().to_owned(),
                here_people(&frame),
            );
        }
    }
}

/// A "who is here" frame's people, as (name, typing) pairs.
pub(crate) fn here_people(frame: &Value) -> Vec<(String, bool)> {
    frame["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["typing"].as_bool().unwrap(),
            )
        })
        .collect()
}

pub(crate) async fn say(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

#[tokio::test]
async fn colleagues_on_a_ticket_see_each_other_and_who_is_typing() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let ticket = live_ticket(&app, &conn, "Two agents, one customer").await;
    let other = live_ticket(&app, &conn, "Elsewhere").await;
    let ana = token(&app, "ana@example.com", backend::users::Role::Agent).await;
    let ben = token(&app, "ben@example.com", backend::users::Role::Agent).await;
    let mut ana_ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    let mut ben_ws = open(&app, Auth::Bearer(&ben.token), None, None)
        .await
        .unwrap();

    // Ana opens the ticket: she is told who is there (herself).
    say(&mut ana_ws, json!({"type": "viewing", "ticket": ticket})).await;
    let (on, people) = next_here(&mut ana_ws).await;
    assert_eq!((on.as_str(), people.len()), (ticket.as_str(), 1));
    // Ben opens it too; both hear of it.
    say(&mut ben_ws, json!({"type": "viewing", "ticket": ticket})).await;
    let both = vec![
        ("ana@example.com".to_owned(), false),
        ("ben@example.com".to_owned(), false),
    ];
    assert_eq!(next_here(&mut ana_ws).await.1, both);
    assert_eq!(next_here(&mut ben_ws).await.1, both);

    // Ben types: Ana sees it once, however often Ben's tab repeats it, and it
    // ends by itself a few seconds after he stops.
    for _ in 0..3 {
        say(&mut ben_ws, json!({"type": "typing", "ticket": ticket})).await;
    }
    let (_, people) = next_here(&mut ana_ws).await;
    assert_eq!(people[1], ("ben@example.com".to_owned(), true));
    let started = tokio::time::Instant::now();
    let (_, people) = next_here(&mut ana_ws).await;
    assert_eq!(people, both, "typing ended");
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_secs(3) && lasted < Duration::from_secs(5),
        "{lasted:?}"
    );

    // A ticket name that is no ticket seats nobody; moving on leaves the seat.
    say(
        &mut ben_ws,
        json!({"type": "viewing", "ticket": "tkt_nothing"}),
    )
    .await;
    assert_eq!(
        next_here(&mut ana_ws).await.1,
        [("ana@example.com".to_owned(), false)]
    );
    say(&mut ben_ws, json!({"type": "viewing", "ticket": other})).await;
    // (Ben's socket still holds the frames about the first ticket.)
    let people = loop {
        let (on, people) = next_here(&mut ben_ws).await;
        if on == other {
            break people;
        }
    };
    assert_eq!(people, [("ben@example.com".to_owned(), false)]);

    // Ana types on her ticket, then sends: viewing it again ends typing at once.
    say(&mut ana_ws, json!({"type": "typing", "ticket": ticket})).await;
    assert_eq!(
        next_here(&mut ana_ws).await.1,
        [("ana@example.com".to_owned(), true)]
    );
    say(&mut ana_ws, json!({"type": "viewing", "ticket": ticket})).await;
    assert_eq!(
        next_here(&mut ana_ws).await.1,
        [("ana@example.com".to_owned(), false)]
    );

    // Ben comes back, then closes his tab: he is gone from Ana's view at once.
    say(&mut ben_ws, json!({"type": "viewing", "ticket": ticket})).await;
    assert_eq!(next_here(&mut ana_ws).await.1, both);
    ben_ws.close(None).await.unwrap();
    assert_eq!(
        next_here(&mut ana_ws).await.1,
        [("ana@example.com".to_owned(), false)]
    );
}

#[tokio::test]
async fn a_flood_of_viewing_frames_is_cut_to_a_trickle() {
    let app = spawn_app().await;
    let conn = app.connection("bot", false).await;
    let first = live_ticket(&app, &conn, "One").await;
    let second = live_ticket(&app, &conn, "Two").await;
    let ana = token(&app, "ana@example.com", backend::users::Role::Agent).await;
    let mut ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    for i in 0..200 {
        let ticket = if i % 2 == 0 { &first } else { &second };
        say(&mut ws, json!({"type": "viewing", "ticket": ticket})).await;
    }
    // Each frame let through moves Ana (two announcements); the rest are dropped.
    let mut heard = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(1_500);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until, ws.next()).await {
        if let Message::Text(text) = frame
            && text.contains(r#""type":"here""#)
        {
            heard += 1;
        }
    }
    assert!(heard > 0 && heard <= 2 * 30, "{heard} frames");
}

/// Sends `payload` on the replicas' "who is here" channel, as any role that can
/// connect to the database could.
async fn notify_here(db: &sqlx::PgPool, payload: &str) {
    sqlx::query("select pg_notify('baton_here', $1)")
        .bind(payload)
        .execute(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn forged_or_malformed_replica_notices_change_nothing_anyone_sees() {
    let url = crate::helpers::postgres_database().await;
    let app = crate::helpers::spawn_app_with(|c| c.database_url = url.clone()).await;
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let conn = app.connection("bot", false).await;
    let ticket = live_ticket(&app, &conn, "Watched").await;
    let ana = token(&app, "ana@example.com", backend::users::Role::Agent).await;
    let mut ws = open(&app, Auth::Bearer(&ana.token), None, None)
        .await
        .unwrap();
    say(&mut ws, json!({"type": "viewing", "ticket": ticket})).await;
    let alone = vec![("ana@example.com".to_owned(), false)];
    assert_eq!(next_here(&mut ws).await.1, alone);
    let key: String = eventually(10, "the replicas' signing key", || async {
        sqlx::query_scalar::<_, String>(
            "select value #>> '{}' from settings where key = 'replica_notice_key'",
        )
        .fetch_optional(&db)
        .await
        .unwrap()
    })
    .await;

    let seats = |replica: &str, name: &str| {
        json!({
            "notice": "seats", "replica": replica, "ticket": ticket,
            "people": [{"agent": "agt_00000000000000000000000000000000", "name": name, "typing": false}],
        })
        .to_string()
    };
    // As a replica signs: the time, then the notice.
    let sign = |text: &str, key: &[u8]| {
        let signed = format!("{} {text}", backend::clock::now_ms());
        format!(
            "{} {signed}",
            backend::ids::keyed_digest(key, signed.as_bytes())
        )
    };
    let forged = seats("rpl_mallory", "Mallory");
    for payload in [
        // Unsigned, as the notices were before they were signed.
        forged.clone(),
        // Signed with a key of one's own, or a signature made up.
        sign(&forged, b"a key of my own"),
        format!("{} {forged}", "f".repeat(64)),
        // A real replica's notice that its people left, unsigned.
        json!({"notice": "stopped", "replica": "rpl_mallory"}).to_string(),
        // Not a notice at all, signed or not.
        "{not json".to_owned(),
        sign("{\"notice\":\"seats\"}", key.as_bytes()),
        "x".repeat(7_000),
        // Signed, but sent a minute ago: replayed by someone who listened.
        {
            let signed = format!("{} {forged}", backend::clock::now_ms() - 60_000);
            let signature = backend::ids::keyed_digest(key.as_bytes(), signed.as_bytes());
            format!("{signature} {signed}")
        },
    ] {
        notify_here(&db, &payload).await;
    }
    // Then a notice signed with the installation's key (as another replica sends):
    // it is the next thing Ana sees, so none of the others was shown.
    notify_here(&db, &sign(&seats("rpl_zed", "Zed"), key.as_bytes())).await;
    let (on, mut people) = next_here(&mut ws).await;
    assert_eq!(on, ticket);
    people.sort();
    assert_eq!(
        people,
        [
            ("Zed".to_owned(), false),
            ("ana@example.com".to_owned(), false)
        ],
        "Mallory is never shown"
    );
}
