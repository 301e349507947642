//! Ingest: `/botSendsMessage` at saturation, against the baseline server, then the
//! latency at half of Baton's saturated rate.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinSet;

use crate::process::{Baton, free_port, scratch};
use crate::report::Row;
use crate::seed::{self, Botpress};
use crate::stats::{Samples, ms};
use crate::{Config, Scale};

/// Concurrent clients at saturation: enough to keep SQLite's single writer busy.
pub(crate) const CLIENTS: usize = 32;

/// What one load run saw.
pub(crate) struct Load {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub latency: Samples,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let duration = Duration::from_secs(scale.ingest_seconds);

    // Baton: one customer, one ticket per client (messages of a ticket stay in order).
    let webhook = crate::webhook::start().await?;
    let (dir, database) = scratch()?;
    let token = seed::connection(&database, &webhook.url).await?;
    let baton = Baton::start(config, dir, database).await?;
    let botpress = Botpress::new(&baton.base, &token);
    let customer = botpress.customer().await?;
    let mut bodies = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let ticket = botpress.escalate(&format!("Load {i}")).await?;
        bodies.push(Botpress::message(
            &ticket,
            &customer,
            "Hello, is anyone there?",
        ));
    }
    let url = botpress.messages_url();
    let mut saturated = saturate(&url, &bodies, duration).await;
    let half = saturated.rate() / 2.0;
    let mut paced_load = paced(
        &url,
        &bodies,
        half,
        Duration::from_secs(scale.half_rate_seconds),
    )
    .await;
    drop(baton);

    // The baseline, the same load, the same machine, the same invocation.
    let (dir, database) = scratch()?;
    let port = free_port()?;
    let mut baseline = tokio::process::Command::new(std::env::current_exe()?)
        .args(["baseline", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--database")
        .arg(&database)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the baseline server")?;
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/readyz")).await?;
    let mut baseline_load = saturate(&format!("{base}/ingest"), &bodies, duration).await;
    // The baseline at Baton's half rate too: its tail is what this machine's disk and
    // scheduler give one INSERT and one fsync, the floor for Baton's.
    let mut baseline_paced = paced(
        &format!("{base}/ingest"),
        &bodies,
        half,
        Duration::from_secs(scale.half_rate_seconds),
    )
    .await;
    let _ = baseline.kill().await;
    drop(dir);

    anyhow::ensure!(
        saturated.requests > 0 && baseline_load.requests > 0,
        "no request succeeded (Baton {} errors, baseline {} errors)",
        saturated.errors,
        baseline_load.errors
    );
    let ratio = saturated.rate() / baseline_load.rate();
    let p99_half = paced_load.latency.percentile(99.0);
    Ok(vec![
        Row::new(
            "Ingest, saturated",
            format!(
                "{:.0} req/s vs baseline {:.0} req/s = **{ratio:.2}×**; p50 {}, p99 {} \
                 ({CLIENTS} clients, {} errors; baseline p50 {}, p99 {})",
                saturated.rate(),
                baseline_load.rate(),
                ms(saturated.latency.percentile(50.0)),
                ms(saturated.latency.percentile(99.0)),
                saturated.errors,
                ms(baseline_load.latency.percentile(50.0)),
                ms(baseline_load.latency.percentile(99.0)),
            ),
            "≥ 1.0× baseline",
            ratio >= 1.0,
        ),
        Row::new(
            "Ingest, half rate",
            format!(
                "p99 **{}**, p50 {} at {half:.0} req/s ({} requests, {} errors; the baseline \
                 at the same rate: p99 {}, p50 {})",
                ms(p99_half),
                ms(paced_load.latency.percentile(50.0)),
                paced_load.latency.len(),
                paced_load.errors,
                ms(baseline_paced.latency.percentile(99.0)),
                ms(baseline_paced.latency.percentile(50.0)),
            ),
            "p99 ≤ 10 ms",
            p99_half <= Duration::from_millis(10) && paced_load.errors == 0,
        ),
    ])
}

/// Closed loop: each client sends its next request as soon as the last one answers.
async fn saturate(url: &str, bodies: &[String], duration: Duration) -> Load {
    saturate_over(&[url.to_owned()], bodies, duration).await
}

/// [`saturate`], the clients spread over `urls` in turn (replicas behind a balancer).
pub(crate) async fn saturate_over(urls: &[String], bodies: &[String], duration: Duration) -> Load {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + duration;
    let mut clients = JoinSet::new();
    for (i, body) in bodies.iter().cycle().take(CLIENTS).enumerate() {
        let url = &urls[i % urls.len()];
        let (client, url, body) = (client.clone(), url.to_owned(), body.clone());
        clients.spawn(async move {
            let mut load = Load {
                requests: 0,
                errors: 0,
                seconds: 0.0,
                latency: Samples::default(),
            };
            while Instant::now() < deadline {
                let sent = Instant::now();
                if send(&client, &url, &body).await {
                    load.requests += 1;
                    load.latency.push(sent.elapsed());
                } else {
                    load.errors += 1;
                }
            }
            load
        });
    }
    let mut total = Load {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latency: Samples::default(),
    };
    while let Some(Ok(load)) = clients.join_next().await {
        total.requests += load.requests;
        total.errors += load.errors;
        total.latency.extend(load.latency);
    }
    total.seconds = started.elapsed().as_secs_f64();
    total
}

/// Open loop at a fixed rate. Latency counts from when a request was due, not when
/// it went out, so a stall shows up in the numbers instead of hiding them.
pub(crate) async fn paced(url: &str, bodies: &[String], rate: f64, duration: Duration) -> Load {
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = tokio::time::Instant::now();
    let bodies: Arc<[String]> = bodies.into();
    let mut requests = JoinSet::new();
    let mut n: u32 = 0;
    loop {
        let due = started + interval * n;
        if due.duration_since(started) >= duration {
            break;
        }
        tokio::time::sleep_until(due).await;
        let (client, url, bodies) = (client.clone(), url.to_owned(), bodies.clone());
        let body = bodies[n as usize % bodies.len()].clone();
        requests.spawn(async move {
            let ok = send(&client, &url, &body).await;
            (ok, due.elapsed())
        });
        n += 1;
    }
    let mut load = Load {
        requests: 0,
        errors: 0,
        seconds: duration.as_secs_f64(),
        latency: Samples::default(),
    };
    while let Some(Ok((ok, took))) = requests.join_next().await {
        if ok {
            load.requests += 1;
            load.latency.push(took);
        } else {
            load.errors += 1;
        }
    }
    load
}

async fn send(client: &reqwest::Client, url: &str, body: &str) -> bool {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await;
    match response {
        Ok(r) => {
            let ok = r.status().is_success();
            // Read the body so the connection goes back to the pool.
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

async fn wait_http(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..3000 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("{url} did not answer within 30 s")
}
