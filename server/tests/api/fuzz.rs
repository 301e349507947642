//! Generated and mutated input against the five Botpress endpoints, every REST
//! route, the ticket server functions and `/ws` frames: only 2xx or 4xx may come
//! back, never a 5xx or a dropped connection (a panic), and the server keeps serving
//! afterwards. Each target must also accept some of its inputs, so a seed that only
//! ever produces parse errors (and fuzzes nothing behind the parser) fails.
//!
//! The generator is deterministic: a failure prints the seed, the case number and the
//! body, and `BATON_FUZZ_SEED=<seed>` replays the same sequence. Each engine's pass
//! starts from a seed of its own, so the two passes of `cargo xtask test` try
//! different inputs; `BATON_FUZZ_CASES=<n>` sets the inputs per target for a longer
//! run (the default keeps the suite within its time budget).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::helpers::{TestApp, live_ticket, spawn_app_with, token};

/// Inputs per endpoint or route, unless `BATON_FUZZ_CASES` says otherwise. The four
/// targets on two engines are most of the suite's CPU time on a 2-core machine: 2,500
/// each keeps `cargo xtask test` within its budget (20,000 inputs a run); a longer
/// run before a release takes `BATON_FUZZ_CASES=20000`.
const CASES: usize = 2_500;

/// Inputs per endpoint or route for this run.
fn cases() -> usize {
    std::env::var("BATON_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(CASES)
}

/// Inputs per server function (eight of them, each through the whole Leptos stack,
/// so a quarter as many).
fn form_cases() -> usize {
    (cases() / 4).max(1)
}
/// Concurrent requests: enough to find races between requests, few enough for CI.
const PARALLEL: usize = 8;

/// xorshift64*: small, fast and reproducible; the quality is ample for picking
/// mutations.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    std::env::var("BATON_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if crate::helpers::on_postgres() {
            0x0BA7_0F00_D5EE_D002
        } else {
            0x0BA7_0F00_D5EE_D001
        })
}

/// A random JSON value of bounded depth, of any type.
fn any_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!(f64::from(rng.below(1000) as u32) / 7.0 - 50.0),
        4 => Value::String(text(rng)),
        5 => json!(["type", "text", "", "tkt_", "BOT", "user_1"][rng.below(6)]),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| any_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(text(rng), any_value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// Short strings that tend to break parsers: quotes, escapes, controls, emoji,
/// markup, SQL, and path tricks.
fn text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "type",
        "payload",
        "\"",
        "\\",
        "\u{0}",
        "\n",
        "\u{202e}",
        "😀",
        "<script>",
        "' or 1=1 --",
        "../",
        "%00",
        "tkt_",
        "agt_",
        "-1",
        "1e309",
        " ",
        "\u{feff}",
    ];
    (0..rng.below(5))
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

/// Every path to a value in `v` (object keys and array indexes).
fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let mut p = at.clone();
                p.push(k.clone());
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut p = at.clone();
                p.push(i.to_string());
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|p| format!("/{p}")).collect()
}

/// One structural mutation of a JSON value: a field removed, added or retyped.
fn mutate_value(rng: &mut Rng, v: &mut Value) {
    let mut all = Vec::new();
    paths(v, Vec::new(), &mut all);
    match rng.below(4) {
        // Drop a field.
        0 if !all.is_empty() => {
            let path = &all[rng.below(all.len())];
            let (last, parent) = path.split_last().unwrap_or((&path[0], &[]));
            match v.pointer_mut(&pointer(parent)) {
                Some(Value::Object(map)) => {
                    map.remove(last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
        // Add an unknown field somewhere.
        1 => {
            let mut objects = vec![Vec::new()];
            objects.extend(
                all.iter()
                    .filter(|p| v.pointer(&pointer(p)).is_some_and(Value::is_object))
                    .cloned(),
            );
            let at = &objects[rng.below(objects.len())];
            if let Some(Value::Object(map)) = v.pointer_mut(&pointer(at)) {
                map.insert(text(rng), any_value(rng, 2));
            }
        }
        // Replace a value with one of another type (or the root itself).
        _ => {
            if all.is_empty() || rng.chance(5) {
                *v = any_value(rng, 3);
            } else {
                let path = &all[rng.below(all.len())];
                if let Some(slot) = v.pointer_mut(&pointer(path)) {
                    *slot = any_value(rng, 2);
                }
            }
        }
    }
}

/// A request body: a valid one mutated structurally, then perhaps at the byte level.
fn body(rng: &mut Rng, valid: &Value) -> Vec<u8> {
    match rng.below(100) {
        // Huge strings, past every body limit.
        0 => {
            let mut v = valid.clone();
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "payload".into(),
                    json!({"type": "text", "text": "x".repeat(300 * 1024)}),
                );
            }
            return v.to_string().into_bytes();
        }
        // Deep nesting, of arrays or objects.
        1 => {
            let depth = 1 + rng.below(50_000);
            return if rng.chance(50) {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
            } else {
                format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes()
            };
        }
        // Duplicate keys, the second disagreeing with the first.
        2..=5 => {
            let text = valid.to_string();
            if let Some(inner) = text.strip_prefix('{') {
                let dup = [
                    r#""type":"ping","#,
                    r#""payload":{},"#,
                    r#""remoteConversationId":5,"#,
                    r#""text":null,"#,
                    r#""agent_id":"agt_x","#,
                ][rng.below(5)];
                return format!("{{{dup}{inner}").into_bytes();
            }
        }
        // Empty, or not JSON at all.
        6..=8 => {
            return [
                &b""[..],
                b"null",
                b"[]",
                b"\"text\"",
                b"42",
                b"{",
                b"type=ping&payload=1",
            ][rng.below(7)]
            .to_vec();
        }
        _ => {}
    }
    let mut v = valid.clone();
    for _ in 0..1 + rng.below(3) {
        mutate_value(rng, &mut v);
    }
    let mut bytes = v.to_string().into_bytes();
    if rng.chance(15) && !bytes.is_empty() {
        // Invalid UTF-8, a truncation, or flipped bytes.
        let at = rng.below(bytes.len());
        match rng.below(3) {
            0 => {
                bytes.splice(at..at, [0xff, 0xfe, 0xc0, 0x80]);
            }
            1 => bytes.truncate(at),
            _ => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
            }
        }
    }
    bytes
}

fn content_type(rng: &mut Rng) -> Option<&'static str> {
    match rng.below(10) {
        0 => None,
        1 => Some("text/plain"),
        2 => Some("application/x-www-form-urlencoded"),
        3 => Some("multipart/form-data"),
        4 => Some("application/json; charset=latin1"),
        _ => Some("application/json"),
    }
}

/// What a route is called with.
#[derive(Clone)]
enum Target {
    /// A POST with a JSON body derived from `valid`.
    Post { path: String, valid: Value },
    /// A GET of `path` followed by a generated query string.
    Query { path: String },
    /// A GET of `prefix` followed by a generated path segment.
    Segment { prefix: String },
    /// A server function: a form body of known fields with generated values.
    Form {
        path: String,
        fields: &'static [&'static str],
        valid: Vec<(&'static str, String)>,
    },
}

fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A form body: the valid fields, some dropped, repeated, renamed or given
/// generated values.
fn form(rng: &mut Rng, fields: &[&str], valid: &[(&str, String)]) -> Vec<u8> {
    let mut parts = Vec::new();
    for (key, value) in valid {
        if rng.chance(10) {
            continue;
        }
        let key = if rng.chance(5) {
            fields[rng.below(fields.len())]
        } else {
            key
        };
        let value = if rng.chance(40) {
            text(rng)
        } else {
            value.clone()
        };
        let encoded = percent_encode(&value);
        parts.push(format!("{key}={encoded}"));
        if rng.chance(5) {
            parts.push(format!("{key}={encoded}"));
        }
    }
    if rng.chance(10) {
        parts.push(query(rng));
    }
    parts.join("&").into_bytes()
}

/// A query string or path segment: known keys with wrong values, unknown keys,
/// percent-encoded junk and invalid UTF-8.
fn query(rng: &mut Rng) -> String {
    const KEYS: &[&str] = &["status", "assignee", "cursor", "limit", "q", "status[]", ""];
    const VALUES: &[&str] = &[
        "queued",
        "assigned",
        "closed",
        "me",
        "-1",
        "99999999999999999999",
        "%ff%fe",
        "%00",
        "agt_",
        "tkt_",
        "abc",
        "%E2%80%AE",
        "1.5",
        "",
        "%",
        "%zz",
    ];
    let mut parts = Vec::new();
    for _ in 0..rng.below(4) {
        let key = KEYS[rng.below(KEYS.len())];
        let value = VALUES[rng.below(VALUES.len())];
        parts.push(if rng.chance(10) {
            key.to_owned()
        } else {
            format!("{key}={value}")
        });
    }
    parts.join("&")
}

/// How a fuzzed request authenticates: a header name and value.
type Credentials = Option<(&'static str, String)>;

async fn fuzz(app: &TestApp, target: Target, auth: Credentials) -> usize {
    let seed = seed();
    let mut rng = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
    let gate = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    let cases = if matches!(target, Target::Form { .. }) {
        form_cases()
    } else {
        cases()
    };
    for case in 0..cases {
        let (method, url, body, ctype) = match &target {
            Target::Post { path, valid } => {
                let body = body(&mut rng, valid);
                (
                    reqwest::Method::POST,
                    app.url(path),
                    body,
                    content_type(&mut rng),
                )
            }
            Target::Query { path } => (
                reqwest::Method::GET,
                app.url(&format!("{path}?{}", query(&mut rng))),
                Vec::new(),
                None,
            ),
            Target::Segment { prefix } => {
                let segment = query(&mut rng).replace(['&', '='], "");
                (
                    reqwest::Method::GET,
                    app.url(&format!("{prefix}{segment}")),
                    Vec::new(),
                    None,
                )
            }
            Target::Form {
                path,
                fields,
                valid,
            } => {
                let body = form(&mut rng, fields, valid);
                let ctype = if rng.chance(90) {
                    Some("application/x-www-form-urlencoded")
                } else {
                    content_type(&mut rng)
                };
                (reqwest::Method::POST, app.url(path), body, ctype)
            }
        };
        let permit = gate.clone().acquire_owned().await.unwrap();
        let client = app.client.clone();
        let auth = auth.clone();
        tasks.spawn(async move {
            let mut request = client.request(method, &url).body(body.clone());
            if let Some(c) = ctype {
                request = request.header("content-type", c);
            }
            if let Some((name, value)) = auth {
                request = request.header(name, value);
            }
            let outcome = match request.send().await {
                Ok(r) => Ok(r.status().as_u16()),
                Err(e) => Err(e.to_string()),
            };
            drop(permit);
            match outcome {
                Ok(status) if status < 500 => Ok(status < 300),
                other => Err(format!(
                    "seed {seed} case {case}: {url} with {:?} ({ctype:?}) -> {other:?}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
            }
        });
    }
    let mut failures = Vec::new();
    let mut accepted = 0;
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            Ok(ok) => accepted += usize::from(ok),
            Err(f) => failures.push(f),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} inputs got a 5xx or no answer; the first: {}",
        failures.len(),
        failures[0]
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "the server still serves");
    accepted
}

/// An app with the rate limit lifted (the fuzzer is a flood by design) and a live
/// ticket held by an agent, so valid-looking inputs reach deep code paths.
async fn prepared() -> (TestApp, crate::helpers::TestConnection, String, String) {
    let app = spawn_app_with(|c| {
        c.botpress_rate_per_minute = u32::MAX;
        c.botpress_burst = u32::MAX;
    })
    .await;
    app.accept_webhooks().await;
    let conn = app.connection("fuzz", false).await;
    let ticket = live_ticket(&app, &conn, "Fuzzed").await;
    // The close seed names this ticket's Botpress conversation, so valid-looking
    // closes go through the mapping and the close itself, not just the parser.
    crate::sql!(
        app,
        sqlx::query(
            "update tickets set botpress_conversation_id = 'conv_fuzz' where remote_id = $1"
        )
        .bind(&ticket),
        execute
    )
    .unwrap();
    let bearer = token(&app, "fuzz@example.org", backend::users::Role::Admin)
        .await
        .token;
    (app, conn, ticket, bearer)
}

fn botpress_bodies(ticket: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("ping", json!({"type": "ping"})),
        (
            "createRemoteUser",
            json!({"type": "createRemoteUser",
            "payload": {"role": "end-user", "name": "Dana", "email": "dana@example.org",
                        "pictureUrl": "https://example.org/d.png"}}),
        ),
        (
            "createRemoteConversation",
            json!({"type": "createRemoteConversation",
            "payload": {"title": "Help", "description": "Order", "messages": []}}),
        ),
        (
            "botSendsMessage",
            json!({"type": "botSendsMessage", "remoteConversationId": ticket,
            "remoteUserId": "BOT", "payload": {"type": "text", "text": "hi", "userId": "user_1"}}),
        ),
        (
            "closeRemoteTicket",
            json!({"type": "closeRemoteTicket",
            "payload": {"botpressConversationId": "conv_fuzz"}}),
        ),
    ]
}

#[tokio::test]
async fn botpress_endpoints_answer_every_input_with_2xx_or_4xx() {
    let (app, conn, ticket, _) = prepared().await;
    let path = conn.endpoint.trim_start_matches(&app.address).to_owned();
    for (route, valid) in botpress_bodies(&ticket) {
        let target = Target::Post {
            path: format!("{path}/{route}"),
            valid,
        };
        let accepted = fuzz(&app, target, None).await;
        assert!(
            accepted >= cases() / 100,
            "{route}: only {accepted} of {} inputs got past the parser",
            cases()
        );
    }
}

#[tokio::test]
async fn rest_routes_answer_every_input_with_2xx_or_4xx() {
    let (app, _, ticket, bearer) = prepared().await;
    let base = format!("/api/v1/tickets/{ticket}");
    let targets = [
        Target::Post {
            path: format!("{base}/assign"),
            valid: json!({"agent_id": "agt_x"}),
        },
        Target::Post {
            path: format!("{base}/messages"),
            valid: json!({"text": "On it"}),
        },
        Target::Post {
            path: format!("{base}/close"),
            valid: json!({}),
        },
        Target::Post {
            path: format!("{base}/attachments"),
            valid: json!({"file": "x"}),
        },
        Target::Query {
            path: "/api/v1/tickets".into(),
        },
        Target::Query {
            path: "/api/v1/audit".into(),
        },
        Target::Query {
            path: "/api/v1/agents".into(),
        },
        Target::Query {
            path: "/api/v1/me".into(),
        },
        Target::Segment {
            prefix: "/api/v1/tickets/".into(),
        },
    ];
    for target in targets {
        fuzz(
            &app,
            target,
            Some(("authorization", format!("Bearer {bearer}"))),
        )
        .await;
    }
}

#[tokio::test]
async fn ticket_server_functions_answer_every_input_with_2xx_or_4xx() {
    let (app, _, ticket, _) = prepared().await;
    let cookie = app
        .signed_in("fuzz-agent@example.org", backend::users::Role::Admin)
        .await;
    let agent = cookie.user.clone();
    const FIELDS: &[&str] = &["id", "text", "agent", "message", "latest", "view", "before"];
    let targets: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "inbox/ticket",
            vec![("id", ticket.clone()), ("latest", "100".into())],
        ),
        ("inbox/read", vec![("id", ticket.clone())]),
        ("inbox/take", vec![("id", ticket.clone())]),
        (
            "inbox/reply",
            vec![("id", ticket.clone()), ("text", "On it".into())],
        ),
        (
            "inbox/transfer",
            vec![("id", ticket.clone()), ("agent", agent.public_id.clone())],
        ),
        ("inbox/resend", vec![("message", "1".into())]),
        ("inbox/list", vec![("view", "queued".into())]),
        ("inbox/close", vec![("id", ticket.clone())]),
    ];
    for (endpoint, valid) in targets {
        let target = Target::Form {
            path: format!("/api/{endpoint}"),
            fields: FIELDS,
            valid,
        };
        fuzz(&app, target, Some(("cookie", cookie.cookie.clone()))).await;
    }
}

#[tokio::test]
async fn websocket_frames_never_break_the_server() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let (app, _, _, bearer) = prepared().await;
    const PRESENCE: [&str; 4] = ["active", "idle", "ping", ""];
    let mut rng = Rng(seed() ^ 0x5EED_F00D);
    let mut socket = None;
    let mut closes = Vec::new();
    for case in 0..2_000 {
        if socket.is_none() {
            let mut ws =
                crate::realtime::open(&app, crate::realtime::Auth::Bearer(&bearer), None, None)
                    .await
                    .unwrap_or_else(|e| panic!("case {case}: cannot reopen: {e}"));
            let _hello = ws.next().await;
            socket = Some(ws);
        }
        let Some(ws) = socket.as_mut() else { continue };
        let frame = match rng.below(5) {
            0 => Message::text(any_value(&mut rng, 3).to_string()),
            1 => Message::text(json!({"type": PRESENCE[rng.below(PRESENCE.len())]}).to_string()),
            2 => Message::text(text(&mut rng)),
            3 => Message::binary(
                (0..rng.below(64))
                    .map(|_| rng.next() as u8)
                    .collect::<Vec<u8>>(),
            ),
            // Now and then, more than a frame may be.
            _ => Message::text("x".repeat(if rng.chance(5) { 8 * 1024 } else { 100 })),
        };
        if ws.send(frame).await.is_err() {
            socket = None;
            continue;
        }
        // Whatever the server sends back right now: events, or a close with a code.
        while let Ok(Some(reply)) =
            tokio::time::timeout(std::time::Duration::from_millis(1), ws.next()).await
        {
            match reply {
                Ok(Message::Close(Some(f))) => {
                    closes.push(u16::from(f.code));
                    socket = None;
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    socket = None;
                    break;
                }
            }
        }
    }
    assert!(
        closes.iter().all(|c| *c == 1009),
        "the server closed only for oversized frames: {closes:?}"
    );
    assert_eq!(
        app.get("/readyz").await.status(),
        200,
        "the server still serves"
    );
}
