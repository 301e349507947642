//! Every page rendered by many clients at once on a multi-threaded runtime, with the
//! render threads of `baton::render`: no request may hang.
//!
//! Leptos 0.8 can deadlock when two threads poll one render (leptos-rs/leptos#4673).
//! This is the short version of `cargo xtask bench --only ssr-stress`, which runs a
//! minute against the release binary and hangs the build from before the render
//! threads. Today's pages no longer hang without them either (the pattern that set
//! the hang off, resources made inside `<Suspense>`, is gone, see `page_queries`), so
//! this also checks that every page really goes through the render threads.

use std::time::Duration;

use backend::users::Role;

use crate::authz::PAGES;
use crate::helpers::{live_ticket, spawn_app};

/// Far above any page's render time here (milliseconds); a hang hits it.
const STALL: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_renders_under_concurrent_load_without_hanging() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let lead = app.signed_in("lead@example.com", Role::Admin).await;
    let conn = app.connection("bot", false).await;
    let mut tickets = Vec::new();
    for i in 0..3 {
        tickets.push(live_ticket(&app, &conn, &format!("Question {i}")).await);
    }
    let mut paths: Vec<String> = PAGES
        .iter()
        .map(|(path, _)| path.replace("{id}", &tickets[0]))
        .collect();
    paths.extend(tickets.iter().map(|t| format!("/inbox/{t}")));
    paths.push("/no-such-page".into());

    let client = backend::http_client::client()
        .timeout(STALL)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let before = app.render.handled();
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (client, cookie, paths) = (client.clone(), lead.cookie.clone(), paths.clone());
        let base = app.address.clone();
        clients.spawn(async move {
            let mut answered = 0_u64;
            for round in 0..6 {
                let path = &paths[(i + round) % paths.len()];
                for path in [path, &paths[(i * 7 + round) % paths.len()]] {
                    let response = client
                        .get(format!("{base}{path}"))
                        .header("cookie", &cookie)
                        .header("accept", "text/html")
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
                    let status = response.status();
                    response
                        .bytes()
                        .await
                        .unwrap_or_else(|e| panic!("GET {path} body: {e}"));
                    assert!(!status.is_server_error(), "GET {path}: {status}");
                    answered += 1;
                }
            }
            answered
        });
    }
    let mut answered = 0;
    while let Some(done) = clients.join_next().await {
        answered += done.unwrap();
    }
    assert_eq!(answered, 24 * 6 * 2);
    assert_eq!(
        app.render.handled() - before,
        answered,
        "every page request ran on a render thread"
    );
    // The server still answers afterwards, and health checks never need a render
    // thread.
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.render.handled() - before, answered);
    // On a multi-threaded runtime the server's tasks would run on after the test
    // returns, until the runtime is dropped: stop them first.
    app.shutdown().await.unwrap();
}
