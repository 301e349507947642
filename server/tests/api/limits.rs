//! Limits with clear errors: a Botpress connection's request rate, slow clients,
//! open connections. (Body sizes are in `botpress_inbound`, attachments in
//! `attachments`, websocket frames and sockets per account in `realtime`.)

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, spawn_app_with};

/// Reads until the server closes the connection or `within` passes; what it sent.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_cut_off() {
    let app = spawn_app_with(|c| c.header_timeout = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = TcpStream::connect(&address).await.unwrap();
    // Half a request, then nothing (slowloris).
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: baton\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    let answer = answer.expect("the server closes the connection within a few seconds");
    assert!(!answer.contains("200 OK"), "{answer}");
    // A client that is not slow is served.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_service_resumes() {
    let app = spawn_app_with(|c| c.max_connections = 16).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    // Give the server a moment to accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(&address).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: baton\r\n\r\n")
        .await
        .ok();
    let answer = read_until_closed(&mut extra, Duration::from_secs(2)).await;
    assert_eq!(answer.as_deref(), Some(""), "closed without an answer");
    drop(held);
    eventually(5, "service after the idle connections went", || async {
        let client = crate::helpers::http();
        match client.get(app.url("/healthz")).send().await {
            Ok(r) if r.status() == 200 => Some(()),
            _ => None,
        }
    })
    .await;
}

/// HTTP/2's connection preface, then an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const H2_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
/// A HEADERS frame on stream 1 (`:method GET`) without END_HEADERS: the rest of the
/// headers would follow in CONTINUATION frames, which never come.
const H2_HEADERS_UNFINISHED: [u8; 10] = [0, 0, 1, 1, 0, 0, 0, 0, 1, 0x82];

/// Opens a connection and sends the start of one of four requests that never finish.
async fn never_finishing(address: &str, kind: usize) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let opening: Vec<u8> = match kind % 4 {
        // Silent.
        0 => Vec::new(),
        // Part of the HTTP/2 preface.
        1 => H2_PREFACE[..10].to_vec(),
        // The whole preface and settings, then silence.
        2 => [H2_PREFACE, &H2_SETTINGS].concat(),
        // HTTP/2 headers that never end.
        _ => [H2_PREFACE, &H2_SETTINGS, &H2_HEADERS_UNFINISHED].concat(),
    };
    stream.write_all(&opening).await.unwrap();
    stream
}

#[tokio::test]
async fn sockets_that_never_finish_a_request_are_closed_on_both_protocols() {
    let app = spawn_app_with(|c| {
        c.header_timeout = 2;
        c.max_connections = 20;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut held = Vec::new();
    for kind in 0..16 {
        held.push(never_finishing(&address, kind).await);
    }
    // Below the cap, the others are served while those sockets hang.
    assert_eq!(app.get("/healthz").await.status(), 200);
    for kind in 16..20 {
        held.push(never_finishing(&address, kind).await);
    }
    // Each is closed by the server within the header timeout (2 s), give or take.
    let closed =
        futures_util::future::join_all(held.iter_mut().enumerate().map(|(i, stream)| async move {
            (
                i % 4,
                read_until_closed(stream, Duration::from_secs(8)).await,
            )
        }))
        .await;
    let open: Vec<usize> = closed
        .iter()
        .filter(|(_, answer)| answer.is_none())
        .map(|(kind, _)| *kind)
        .collect();
    assert!(
        open.is_empty(),
        "kinds of socket still open after 8 s: {open:?}"
    );
    // (Measured from before the first of them opened, with room for a busy machine:
    // before, they stayed open for good.)
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(6),
        "closed after {took:?}, not within the 2 s header timeout"
    );
    // The cap has room again at once.
    assert_eq!(app.get("/healthz").await.status(), 200);
    // A real HTTP/2 client (prior knowledge, as a proxy speaks h2c) is still served.
    let h2 = backend::http_client::client()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let answer = h2.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_refused_http2_connect_does_not_keep_its_connection_open() {
    let app = spawn_app_with(|c| {
        c.header_timeout = 2;
        c.idle_timeout = 1;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    // HEADERS on stream 1, END_HEADERS and no END_STREAM: `:method CONNECT` and
    // `:authority baton`, literal (HPACK), a tunnel nobody may open.
    let mut connect = vec![0x42, 7];
    connect.extend_from_slice(b"CONNECT");
    connect.extend_from_slice(&[0x41, 5]);
    connect.extend_from_slice(b"baton");
    let frame_header = [0, 0, u8::try_from(connect.len()).unwrap(), 1, 4, 0, 0, 0, 1];
    let opening = [H2_PREFACE, &H2_SETTINGS, &frame_header, &connect].concat();
    stream.write_all(&opening).await.unwrap();
    // Refused, then idle: shut down after a second, closed when it does not go.
    let answer = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    assert!(answer.is_some(), "the connection is still open after 8 s");
}

#[tokio::test]
async fn a_keep_alive_connection_with_nothing_in_flight_is_shut_down_when_idle() {
    let app = spawn_app_with(|c| {
        c.header_timeout = 10;
        c.idle_timeout = 1;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: baton\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // The answer, then the close: an idle second, not the ten of the header timeout.
    let answer = read_until_closed(&mut stream, Duration::from_secs(6))
        .await
        .expect("the idle connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
}

#[tokio::test]
async fn a_flooding_bot_gets_429_with_retry_after_and_others_are_unaffected() {
    let app = spawn_app_with(|c| {
        c.botpress_rate_per_minute = 60;
        c.botpress_burst = 5;
    })
    .await;
    let noisy = app.connection("noisy", false).await;
    let quiet = app.connection("quiet", false).await;
    let ping = json!({"type": "ping"});
    // The burst passes.
    for i in 0..5 {
        let r = app.botpress_call(&noisy, "ping", &ping).await;
        assert_eq!(r.status(), 200, "call {i} of the burst");
    }
    let refused = app.botpress_call(&noisy, "ping", &ping).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("too many requests"), "{message}");
    // Another bot keeps its own allowance; a wrong token is still just a 404.
    assert_eq!(app.botpress_call(&quiet, "ping", &ping).await.status(), 200);
    let stranger = app
        .client
        .post(app.url("/botpress/not-a-token/ping"))
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);
    // A second later the sustained rate lets one more through.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.botpress_call(&noisy, "ping", &ping).await.status(), 200);
}
