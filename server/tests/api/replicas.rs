//! Two `baton` processes on one PostgreSQL database, as behind a load balancer: what
//! one replica hears, the other's sockets see; a ticket taken on both at once goes to
//! one agent; the outbox delivers each reply once, in order, from either replica; and
//! a replica killed under load loses nothing it acknowledged; and agents on two
//! replicas see each other on a ticket, typing included.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Child;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::crash::{Load, delivered_once_in_order, none_lost, says, start_with};
use crate::helpers::{eventually, postgres_database, replies_received};
use crate::process::free_port;
use crate::realtime::{Auth, Ws, here_people, next, open_at, say};

/// One installation: a bot, two agents with API tokens, and its replicas.
struct Fleet {
    dir: tempfile::TempDir,
    url: String,
    endpoint_token: String,
    ana: String,
    bo: String,
    /// Their public ids, as presence names them.
    ids: Vec<String>,
    replicas: Vec<(String, Child)>,
    client: reqwest::Client,
}

impl Fleet {
    async fn start(botpress: &MockServer, replicas: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = postgres_database().await;
        let db = backend::db::Database::open(&url).await.unwrap();
        let store = db.store();
        let keyed = backend::connections::create(
            &*store,
            backend::connections::NewConnection {
                name: "replicas".into(),
                webhook_url: format!("{}/hook", botpress.uri()),
                botpress_bot_id: None,
                botpress_token: None,
            },
        )
        .await
        .unwrap();
        let mut tokens = Vec::new();
        let mut ids = Vec::new();
        for (email, name) in [("ana@example.com", "Ana"), ("bo@example.com", "Bo")] {
            let agent = backend::accounts::create_user(
                &*store,
                email,
                name,
                backend::users::Role::Agent,
                None,
            )
            .await
            .unwrap();
            ids.push(agent.public_id.clone());
            let (_, token) = backend::accounts::create_token(&*store, agent.id, "replicas")
                .await
                .unwrap();
            tokens.push(token);
        }
        db.close().await;
        let bo = tokens.pop().unwrap();
        let ana = tokens.pop().unwrap();
        let mut fleet = Self {
            dir,
            url,
            endpoint_token: keyed.endpoint_token,
            ana,
            bo,
            ids,
            replicas: Vec::new(),
            client: crate::helpers::http(),
        };
        for _ in 0..replicas {
            fleet.add_replica().await;
        }
        fleet
    }

    /// Starts one more replica; its number.
    async fn add_replica(&mut self) -> usize {
        let n = self.replicas.len();
        let port = free_port();
        // Each its own folder: on PostgreSQL, files live in the database.
        let attachments = self.dir.path().join(format!("attachments-{n}"));
        let child = start_with(self.dir.path(), &self.url, port, &attachments).await;
        self.replicas
            .push((format!("http://127.0.0.1:{port}"), child));
        n
    }

    fn at(&self, replica: usize) -> &str {
        &self.replicas[replica].0
    }

    fn endpoint(&self, replica: usize, route: &str) -> String {
        format!(
            "{}/botpress/{}/{route}",
            self.at(replica),
            self.endpoint_token
        )
    }

    /// A Botpress call to one replica; its JSON answer.
    async fn botpress(&self, replica: usize, route: &str, body: Value) -> Value {
        let r = self
            .client
            .post(self.endpoint(replica, route))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{route} on replica {replica}");
        r.json().await.unwrap_or(Value::Null)
    }

    /// A customer and a ticket, created on `replica`: (customer, ticket).
    async fn escalate(&self, replica: usize, title: &str) -> (String, String) {
        let customer = self
            .botpress(
                replica,
                "createRemoteUser",
                json!({"type": "createRemoteUser", "payload": {"name": "Dana"}}),
            )
            .await;
        let ticket = self
            .botpress(
                replica,
                "createRemoteConversation",
                json!({"type": "createRemoteConversation", "payload": {"title": title}}),
            )
            .await;
        (
            customer["id"].as_str().unwrap().to_owned(),
            ticket["id"].as_str().unwrap().to_owned(),
        )
    }

    /// An agent's REST call to one replica: status and JSON answer.
    async fn api(&self, replica: usize, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1{path}", self.at(replica)))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn socket(&self, replica: usize, token: &str, since: Option<&str>) -> Ws {
        open_at(self.at(replica), Auth::Bearer(token), None, since)
            .await
            .unwrap()
    }
}

/// The next event of `ws` about tickets (presence comes and goes as tabs open).
async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let frame = next(ws).await;
        if frame["type"] != "presence" {
            return frame;
        }
    }
}

/// Events until one of `kind` about `ticket` arrives; that one.
async fn event_until(ws: &mut Ws, kind: &str, ticket: &str) -> Value {
    loop {
        let event = next_event(ws).await;
        assert_ne!(event["type"], "resync", "no event may be lost: {event}");
        if event["type"] == kind && event["ticket"] == ticket {
            return event;
        }
    }
}

#[tokio::test]
async fn replicas_share_events_takes_and_the_outbox() {
    let botpress = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&botpress)
        .await;
    let fleet = Fleet::start(&botpress, 2).await;
    // Ana's tab is on replica 0, Bo's on replica 1.
    let mut ana = fleet.socket(0, &fleet.ana, None).await;
    let mut bo = fleet.socket(1, &fleet.bo, None).await;
    let hello_ana = next(&mut ana).await;
    let hello_bo = next(&mut bo).await;
    assert_eq!(hello_ana["type"], "hello");
    assert_eq!(
        hello_ana["epoch"], hello_bo["epoch"],
        "one installation, one numbering"
    );

    // Botpress talks to replica 1 only; Ana, on replica 0, sees it.
    let (customer, ticket) = fleet.escalate(1, "Refund").await;
    fleet
        .botpress(
            1,
            "botSendsMessage",
            says(&ticket, &customer, "where is my refund?"),
        )
        .await;
    let added = event_until(&mut ana, "message_added", &ticket).await;
    let seq_on_0 = added["seq"].as_u64().unwrap();
    let added_on_1 = event_until(&mut bo, "message_added", &ticket).await;
    assert_eq!(
        added_on_1["seq"].as_u64(),
        Some(seq_on_0),
        "the same number on both"
    );

    // Both click "Take" at once, each on their own replica: one wins, the other is
    // told who has it.
    let path = format!("/tickets/{ticket}/assign");
    let (first, second) = tokio::join!(
        fleet.api(0, &fleet.ana, &path, json!({})),
        fleet.api(1, &fleet.bo, &path, json!({}))
    );
    let mut outcomes = [first.0, second.0];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [200, 403], "{first:?} {second:?}");
    let (winner, loser, loser_answer) = if first.0 == 200 {
        (&fleet.ana, "Bo", second.1)
    } else {
        (&fleet.bo, "Ana", first.1)
    };
    let winner_name = if loser == "Bo" { "Ana" } else { "Bo" };
    let said = loser_answer["error"].as_str().unwrap_or_default();
    assert!(
        said.contains(&format!("{winner_name} holds this conversation")),
        "{loser} is told who won: {loser_answer}"
    );
    for ws in [&mut ana, &mut bo] {
        let assigned = event_until(ws, "assigned", &ticket).await;
        assert!(assigned["agent"].is_string(), "{assigned}");
    }

    // The winner replies through both replicas in turn: the bot gets each reply
    // once, in order.
    let replies: Vec<String> = (0..6).map(|i| format!("reply {i}")).collect();
    for (i, text) in replies.iter().enumerate() {
        let (status, answer) = fleet
            .api(
                i % 2,
                winner,
                &format!("/tickets/{ticket}/messages"),
                json!({"text": text}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let received = eventually(15, "every reply delivered", || async {
        let got = replies_received(&botpress).await;
        (got.len() >= replies.len()).then_some(got)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        replies_received(&botpress).await,
        replies,
        "once each, in order"
    );
    assert_eq!(received, replies);

    // A file sent through one replica is served by the other, with no shared folder.
    let png = b"\x89PNG\r\n\x1a\n-not-really-an-image".to_vec();
    let sent = fleet
        .client
        .post(format!(
            "{}/api/v1/tickets/{ticket}/attachments?name=receipt.png",
            fleet.at(0)
        ))
        .bearer_auth(winner)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let image = eventually(15, "the image reaches the bot", || async {
        botpress
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .find_map(|b| b["payload"]["imageUrl"].as_str().map(str::to_owned))
    })
    .await;
    let path = image.split_once("/files/").unwrap().1;
    let fetched = fleet
        .client
        .get(format!("{}/files/{path}", fleet.at(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200, "{image} through replica 1");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);

    // Ana's tab drops, more happens, and it comes back on the other replica: it
    // resumes from its last number, with nothing missed and no resync.
    // Every frame Ana's tab is still owed, then the drop.
    let mut seen = seq_on_0;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(
        Duration::from_millis(1000),
        futures_util::StreamExt::next(&mut ana),
    )
    .await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if let Some(seq) = v["seq"].as_u64().filter(|_| v["type"] != "hello") {
                seen = seen.max(seq);
            }
        }
    }
    drop(ana);
    fleet
        .botpress(
            0,
            "botSendsMessage",
            says(&ticket, &customer, "while you were away"),
        )
        .await;
    let epoch = hello_ana["epoch"].as_str().unwrap();
    let mut ana = fleet
        .socket(1, &fleet.ana, Some(&format!("{epoch}:{seen}")))
        .await;
    let hello = next(&mut ana).await;
    assert_eq!(hello["type"], "hello");
    let missed = event_until(&mut ana, "message_added", &ticket).await;
    assert!(
        missed["seq"].as_u64().unwrap() > seen,
        "{missed} after {seen}"
    );
}

#[tokio::test]
async fn a_replica_killed_under_load_loses_nothing_and_the_other_finishes_the_outbox() {
    const CLIENTS: usize = 12;
    let botpress = MockServer::start().await;
    // The bot's webhook is down at first, so the replies wait in the outbox.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&botpress)
        .await;
    let mut fleet = Fleet::start(&botpress, 2).await;
    let (customer, ticket) = fleet.escalate(0, "Order").await;
    fleet
        .botpress(0, "botSendsMessage", says(&ticket, &customer, "hello"))
        .await;
    let (status, _) = fleet
        .api(
            0,
            &fleet.ana,
            &format!("/tickets/{ticket}/assign"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    for i in 0..5 {
        let (status, answer) = fleet
            .api(
                0,
                &fleet.ana,
                &format!("/tickets/{ticket}/messages"),
                json!({"text": format!("reply {i}")}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }

    // The load, spread over both replicas; every 2xx is noted.
    let urls = [
        fleet.endpoint(0, "botSendsMessage"),
        fleet.endpoint(1, "botSendsMessage"),
    ];
    let load = Load::start(CLIENTS, &urls, std::slice::from_ref(&ticket), &customer);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, killed) = &mut fleet.replicas[0];
    killed.start_kill().unwrap(); // SIGKILL: no shutdown handler runs.
    killed.wait().await.unwrap();
    // The survivor keeps taking the load a while longer.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let acknowledged = load.stop().await;
    let after_kill = acknowledged
        .iter()
        .filter(|t| {
            t.starts_with('c') && {
                let c: usize = t[1..t.find('-').unwrap()].parse().unwrap();
                c % 2 == 1
            }
        })
        .count();
    assert!(
        acknowledged.len() > 50,
        "the load was real: {}",
        acknowledged.len()
    );
    assert!(after_kill > 0, "the survivor served");

    // The bot's webhook is back: the survivor delivers what the dead replica queued.
    botpress.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&botpress)
        .await;
    let pool = sqlx::PgPool::connect(&fleet.url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("select payload ->> 'text' from messages where origin = 'customer'")
            .fetch_all(&pool)
            .await
            .unwrap();
    none_lost(&acknowledged, stored);

    // Each reply is delivered once, in order; one cut off mid-send by the kill may
    // have landed, so it is failed for a person to resend instead (after its lease).
    delivered_once_in_order(&botpress, 40, || async {
        sqlx::query_as(
            "select payload ->> 'text', delivery from messages where origin = 'agent' order by id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    })
    .await;
}

#[tokio::test]
async fn a_call_another_replica_was_sending_is_taken_back_only_when_its_lease_runs_out() {
    let botpress = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&botpress)
        .await;
    let fleet = Fleet::start(&botpress, 1).await;
    let (customer, ticket) = fleet.escalate(0, "Leased").await;
    fleet
        .botpress(0, "botSendsMessage", says(&ticket, &customer, "hi"))
        .await;
    // Another replica claimed the ticket's hand-back and is sending it, leased for
    // three more seconds; then it dies.
    let pool = sqlx::PgPool::connect(&fleet.url).await.unwrap();
    let now = backend::clock::now_ms();
    sqlx::query(
        "insert into outbox (connection_id, ticket_id, route, body, state, attempts,
                             next_attempt_at, created_at, lease_until)
         select connection_id, id, 'stop-hitl', '{\"conversationId\": \"c\"}'::jsonb,
                'sending', 1, 0, $1, $2
         from tickets where remote_id = $3",
    )
    .bind(now)
    .bind(now + 3000)
    .bind(&ticket)
    .execute(&pool)
    .await
    .unwrap();
    let state = || async {
        sqlx::query_scalar::<_, String>("select state from outbox where route = 'stop-hitl'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let stops = || async {
        botpress
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/stop-hitl"))
            .count()
    };
    // While the lease runs, the call is the other replica's: this one waits.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(state().await, "sending");
    assert_eq!(stops().await, 0, "a live sender's call is not sent twice");
    // Once it has run out, this replica takes it back and delivers it (a hand-back
    // is safe to repeat).
    eventually(10, "the hand-back delivered by the survivor", || async {
        (state().await == "sent").then_some(())
    })
    .await;
    assert_eq!(stops().await, 1);
}

#[tokio::test]
async fn sign_in_limits_count_the_attempts_made_on_every_replica() {
    let botpress = MockServer::start().await;
    let fleet = Fleet::start(&botpress, 2).await;
    let sign_in = |replica: usize| {
        let request = fleet
            .client
            .post(format!("{}/api/auth/login", fleet.at(replica)))
            .form(&[
                ("email", "ana@example.com"),
                ("password", "not her password"),
            ]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Five guesses from one address, spread over both replicas: each is checked.
    for i in 0..backend::accounts::throttle::PER_ACCOUNT_ADDRESS {
        assert_eq!(sign_in(i % 2).await, 401, "guess {i}");
    }
    // The sixth is refused on either one, though neither has seen five.
    assert_eq!(sign_in(0).await, 429);
    assert_eq!(sign_in(1).await, 429);
}

/// The next presence frame about `agent`, if one comes within `within`.
async fn presence_of(ws: &mut Ws, agent: &str, within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, futures_util::StreamExt::next(ws))
            .await
            .ok()??
            .ok()?;
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == "presence" && v["agent"] == agent {
                return v["presence"].as_str().map(str::to_owned);
            }
        }
    }
}

#[tokio::test]
async fn presence_counts_the_tabs_on_every_replica() {
    let botpress = MockServer::start().await;
    let fleet = Fleet::start(&botpress, 2).await;
    let ana = fleet.ids[0].clone();
    // Bo watches from replica 1.
    let mut bo = fleet.socket(1, &fleet.bo, None).await;
    assert_eq!(next(&mut bo).await["type"], "hello");
    // Ana opens a tab on replica 0: Bo sees her come online.
    let first = fleet.socket(0, &fleet.ana, None).await;
    assert_eq!(
        presence_of(&mut bo, &ana, Duration::from_secs(5))
            .await
            .as_deref(),
        Some("online")
    );
    // A second tab on replica 1, then the first closes: she is still here.
    let mut second = fleet.socket(1, &fleet.ana, None).await;
    assert_eq!(next(&mut second).await["type"], "hello");
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first);
    assert_eq!(
        presence_of(&mut bo, &ana, Duration::from_secs(2)).await,
        None,
        "a tab on another replica keeps her online"
    );
    let listed = listed_presence(&fleet, 0, &fleet.bo, &ana).await;
    assert_eq!(listed, "online", "replica 0 counts her tab on replica 1");
    // The last tab closes: she is offline.
    drop(second);
    assert_eq!(
        presence_of(&mut bo, &ana, Duration::from_secs(5))
            .await
            .as_deref(),
        Some("offline")
    );
    // Bo's only tab, on replica 1, closes: replica 0, which never had a tab of his,
    // lists him offline too (not "online" from his last request a moment ago).
    let bo_id = fleet.ids[1].clone();
    assert_eq!(
        listed_presence(&fleet, 0, &fleet.ana, &bo_id).await,
        "online"
    );
    drop(bo);
    eventually(5, "replica 0 to list Bo offline", || async {
        (listed_presence(&fleet, 0, &fleet.ana, &bo_id).await == "offline").then_some(())
    })
    .await;
}

/// `agent`'s presence in `GET /api/v1/agents` on `replica`, asked with `token`.
async fn listed_presence(fleet: &Fleet, replica: usize, token: &str, agent: &str) -> String {
    let agents: Value = fleet
        .client
        .get(format!("{}/api/v1/agents", fleet.at(replica)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent)
        .and_then(|a| a["presence"].as_str())
        .unwrap()
        .to_owned()
}

/// "Who is here" frames about `ticket` until one shows `want` ((name, typing), by
/// name), within `within`; else what the last one showed.
async fn here_until(
    ws: &mut Ws,
    ticket: &str,
    want: &[(&str, bool)],
    within: Duration,
) -> Result<(), Vec<(String, bool)>> {
    let want: Vec<(String, bool)> = want.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect();
    let deadline = tokio::time::Instant::now() + within;
    let mut last = Vec::new();
    loop {
        let Ok(Some(Ok(frame))) =
            tokio::time::timeout_at(deadline, futures_util::StreamExt::next(ws)).await
        else {
            return Err(last);
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["type"] != "here" || v["ticket"] != ticket {
            continue;
        }
        last = here_people(&v);
        if last == want {
            return Ok(());
        }
    }
}

#[tokio::test]
async fn agents_on_two_replicas_see_each_other_on_a_ticket() {
    let botpress = MockServer::start().await;
    let mut fleet = Fleet::start(&botpress, 2).await;
    let (_, ticket) = fleet.escalate(0, "Seen from two replicas").await;
    let viewing = json!({"type": "viewing", "ticket": ticket});
    let soon = Duration::from_secs(2);
    let mut ana = fleet.socket(0, &fleet.ana, None).await;
    say(&mut ana, viewing.clone()).await;
    here_until(&mut ana, &ticket, &[("Ana", false)], soon)
        .await
        .unwrap();

    // Bo opens it on the other replica: each sees both, within a second or two.
    let mut bo = fleet.socket(1, &fleet.bo, None).await;
    say(&mut bo, viewing.clone()).await;
    let both = [("Ana", false), ("Bo", false)];
    here_until(&mut bo, &ticket, &both, soon).await.unwrap();
    here_until(&mut ana, &ticket, &both, soon).await.unwrap();

    // Bo types: Ana sees it, and sees it end a few seconds after he stops.
    say(&mut bo, json!({"type": "typing", "ticket": ticket})).await;
    here_until(&mut ana, &ticket, &[("Ana", false), ("Bo", true)], soon)
        .await
        .unwrap();
    here_until(&mut ana, &ticket, &both, Duration::from_secs(6))
        .await
        .unwrap();

    // Bo closes his tab: he is gone from Ana's view at once.
    drop(bo);
    here_until(&mut ana, &ticket, &[("Ana", false)], soon)
        .await
        .unwrap();

    // A replica started now hears at once who is where (it asks; the others would
    // otherwise repeat themselves only every few seconds).
    let third = fleet.add_replica().await;
    let mut bo = fleet.socket(third, &fleet.bo, None).await;
    say(&mut bo, viewing).await;
    here_until(&mut bo, &ticket, &both, soon).await.unwrap();
    here_until(&mut ana, &ticket, &both, soon).await.unwrap();

    // That replica dies with Bo on the ticket: he drops out of Ana's view once its
    // word runs out (15 s, plus a beat), rather than stay there for good.
    let (_, killed) = &mut fleet.replicas[third];
    killed.start_kill().unwrap(); // SIGKILL: it says nothing as it goes.
    killed.wait().await.unwrap();
    here_until(
        &mut ana,
        &ticket,
        &[("Ana", false)],
        Duration::from_secs(25),
    )
    .await
    .unwrap();
}
