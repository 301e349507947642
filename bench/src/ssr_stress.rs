//! Every page rendered by many clients at once, for long enough to catch a render
//! that never finishes.
//!
//! Leptos 0.8 can deadlock when two threads poll one page's render
//! (leptos-rs/leptos#4673): the server then answers nothing, at 0% CPU. Baton keeps
//! each render on one thread (`server/src/render.rs`). This measure is the proof: a
//! build that renders on a multi-threaded runtime hangs here within seconds (see
//! BENCHMARKS.md); the measure fails when any request waits longer than `STALL`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::process::{Baton, scratch};
use crate::report::Row;
use crate::stats::{Samples, ms};
use crate::{Config, Scale};

/// A request slower than this counts as a hang: the slowest page takes milliseconds.
const STALL: Duration = Duration::from_secs(20);

/// Every page, as an admin sees it, plus a page that does not exist.
const PAGES: &[&str] = &[
    "/",
    "/status",
    "/login",
    "/setup",
    "/welcome",
    "/profile",
    "/inbox",
    "/inbox/tkt_bench1",
    "/inbox/tkt_bench2",
    "/inbox/tkt_bench5",
    "/admin/agents",
    "/admin/connections",
    "/admin/audit",
    "/admin/routing",
    "/reports",
    "/no-such-page",
];

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let webhook = crate::webhook::start().await?;
    let (dir, database) = scratch()?;
    crate::seed::connection(&database, &webhook.url).await?;
    // The hang needs renders that overlap, not a big database (the SSR measure has
    // that): on the quick data a render takes milliseconds, so a request that waits
    // 20 s is stuck, not slow.
    let data = Scale {
        tickets: 500,
        messages: 20_000,
        long_ticket: 200,
        ..*scale
    };
    // The seed includes an admin, whose pages this measure renders too.
    crate::ssr::fill(&crate::process::database_url(&database), &data).await?;
    let baton = Baton::start(config, dir, database).await?;
    let client = backend::http_client::client()
        .timeout(STALL)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(scale.stress_clients)
        .build()?;
    let cookie = crate::ssr::sign_in(&client, &baton, crate::ssr::ADMIN).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let deadline = began + Duration::from_secs(scale.stress_seconds);
    let mut clients = JoinSet::new();
    for i in 0..scale.stress_clients {
        let (client, cookie, stop) = (client.clone(), cookie.clone(), stop.clone());
        let base = baton.base.clone();
        clients.spawn(async move {
            let mut tally = Tally::default();
            // Each client starts at a different page, so every page is always being
            // rendered by someone.
            let mut page = i % PAGES.len();
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                let path = PAGES[page];
                page = (page + 1) % PAGES.len();
                let started = Instant::now();
                let sent = client
                    .get(format!("{base}{path}"))
                    .header("cookie", &cookie)
                    .header("accept", "text/html")
                    .send()
                    .await;
                let answer = match sent {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                match answer {
                    Ok(status) if status.is_server_error() => {
                        tally.errors.push(format!("GET {path}: {status}"));
                    }
                    Ok(_) => tally.latency.push(started.elapsed()),
                    Err(e) if e.is_timeout() => {
                        tally.stalled += 1;
                        let at = started - began;
                        tally.first_stall = Some(tally.first_stall.map_or(at, |t| t.min(at)));
                        // One hang is the answer; the others would only wait too.
                        stop.store(true, Ordering::Relaxed);
                    }
                    Err(e) => tally.errors.push(format!("GET {path}: {e}")),
                }
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(joined) = clients.join_next().await {
        let tally = joined?;
        all.latency.extend(tally.latency);
        all.stalled += tally.stalled;
        all.first_stall = match (all.first_stall, tally.first_stall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        all.errors.extend(tally.errors);
    }
    let elapsed = began.elapsed();
    // A hung server does not answer its health check either.
    let alive = client
        .get(baton.url("/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    let requests = all.latency.len();
    let rate = requests as f64 / elapsed.as_secs_f64();
    let mut result = format!(
        "**{} stalled** of {requests} requests, {rate:.0} req/s; p50 {}, p99 {}, max {} \
         ({} clients over {} pages for {:.0} s, {} errors)",
        all.stalled,
        ms(all.latency.percentile(50.0)),
        ms(all.latency.percentile(99.0)),
        ms(all.latency.percentile(100.0)),
        scale.stress_clients,
        PAGES.len(),
        elapsed.as_secs_f64(),
        all.errors.len(),
    );
    if let Some(at) = all.first_stall {
        result.push_str(&format!(
            "; the first request that waited over {} s was sent {:.1} s in{}",
            STALL.as_secs(),
            at.as_secs_f64(),
            if alive {
                ""
            } else {
                ", and `/readyz` no longer answers"
            },
        ));
    }
    if let Some(first) = all.errors.first() {
        result.push_str(&format!("; first error: {first}"));
    }
    Ok(vec![Row::new(
        "SSR under load",
        result,
        "no request stalls",
        all.stalled == 0 && all.errors.is_empty() && alive,
    )])
}

#[derive(Default)]
struct Tally {
    latency: Samples,
    stalled: usize,
    first_stall: Option<Duration>,
    errors: Vec<String>,
}
