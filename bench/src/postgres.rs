//! PostgreSQL: the Botpress ingest and the realtime fan-out on one and on two
//! replicas, each a separate `baton` process on one database of a throwaway
//! cluster (`cargo xtask bench` starts it and passes its URL), and the large
//! database's pages and search on one replica. The SQLite rows above are the same
//! loads on one process and one file.

use std::time::Duration;

use anyhow::Context;
use sqlx::Connection;

use crate::ingest::{CLIENTS, paced, saturate_over};
use crate::process::Baton;
use crate::report::Row;
use crate::seed::{self, Botpress};
use crate::stats::ms;
use crate::{Config, Scale};

/// A new, empty database in the cluster at `admin` (its maintenance database's URL).
async fn database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .context("cannot reach the benchmark's PostgreSQL cluster")?;
    let name = format!(
        "bench_{name}_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await?;
    let cluster = admin.rsplit_once('/').map_or(admin, |(c, _)| c);
    Ok(format!("{cluster}/{name}"))
}

/// `count` replicas of Baton on the database at `url`.
async fn replicas(config: &Config, url: &str, count: usize) -> anyhow::Result<Vec<Baton>> {
    let mut started = Vec::with_capacity(count);
    for _ in 0..count {
        let dir = tempfile::Builder::new()
            .prefix("baton-bench-pg")
            .tempdir()?;
        started.push(Baton::start_at(config, dir, url).await?);
    }
    Ok(started)
}

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let admin = config
        .postgres_url
        .as_deref()
        .context("no PostgreSQL cluster: set BENCH_POSTGRES_URL (cargo xtask bench starts one)")?;
    let mut rows = Vec::new();
    for count in [1, 2] {
        rows.extend(ingest(config, scale, admin, count).await?);
    }
    rows.push(fan_out(config, scale, admin).await?);
    let dir = tempfile::Builder::new()
        .prefix("baton-bench-pg")
        .tempdir()?;
    let url = database(admin, "ssr").await?;
    rows.extend(crate::ssr::measure(config, scale, dir, &url, crate::ssr::Engine::Postgres).await?);
    Ok(rows)
}

/// `/botSendsMessage` at saturation, the clients spread over `count` replicas; on one
/// replica, also the latency at half that rate.
async fn ingest(
    config: &Config,
    scale: &Scale,
    admin: &str,
    count: usize,
) -> anyhow::Result<Vec<Row>> {
    let webhook = crate::webhook::start().await?;
    let url = database(admin, "ingest").await?;
    let token = seed::connection_at(&url, &webhook.url).await?;
    let batons = replicas(config, &url, count).await?;
    let botpress = Botpress::new(&batons[0].base, &token);
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
    let urls: Vec<String> = batons
        .iter()
        .map(|b| Botpress::new(&b.base, &token).messages_url())
        .collect();
    let duration = Duration::from_secs(scale.ingest_seconds);
    let mut saturated = saturate_over(&urls, &bodies, duration).await;
    anyhow::ensure!(
        saturated.requests > 0,
        "no request succeeded ({} errors)",
        saturated.errors
    );
    let (measure, half_measure): (&'static str, &'static str) = if count == 1 {
        (
            "PostgreSQL ingest, saturated, 1 replica",
            "PostgreSQL ingest, half rate",
        )
    } else {
        ("PostgreSQL ingest, saturated, 2 replicas", "")
    };
    let mut rows = vec![Row::new(
        measure,
        format!(
            "**{:.0} req/s**; p50 {}, p99 {} ({CLIENTS} clients over {count} replica(s), {} \
             errors)",
            saturated.rate(),
            ms(saturated.latency.percentile(50.0)),
            ms(saturated.latency.percentile(99.0)),
            saturated.errors,
        ),
        "recorded",
        saturated.errors == 0,
    )];
    if count == 1 {
        let half = saturated.rate() / 2.0;
        let mut paced_load = paced(
            &urls[0],
            &bodies,
            half,
            Duration::from_secs(scale.half_rate_seconds),
        )
        .await;
        rows.push(Row::new(
            half_measure,
            format!(
                "p99 **{}**, p50 {} at {half:.0} req/s ({} requests, {} errors)",
                ms(paced_load.latency.percentile(99.0)),
                ms(paced_load.latency.percentile(50.0)),
                paced_load.latency.len(),
                paced_load.errors,
            ),
            "recorded",
            paced_load.errors == 0,
        ));
    }
    drop(batons);
    Ok(rows)
}

/// Agents' sockets spread over two replicas; Botpress posts to the first. Each frame
/// crosses the database (the events table and its wake-up) to reach the second's.
async fn fan_out(config: &Config, scale: &Scale, admin: &str) -> anyhow::Result<Row> {
    let webhook = crate::webhook::start().await?;
    let url = database(admin, "fanout").await?;
    let token = seed::connection_at(&url, &webhook.url).await?;
    let agents = seed::agents_at(&url, scale.sockets).await?;
    let batons = replicas(config, &url, 2).await?;
    let botpress = Botpress::new(&batons[0].base, &token);
    let customer = botpress.customer().await?;
    let ticket = botpress.escalate("Fan-out").await?;
    let bases: Vec<String> = batons.iter().map(|b| b.base.clone()).collect();
    let (mut latency, missed, _) = crate::fanout::measure(
        &bases,
        &agents,
        &botpress,
        &customer,
        &ticket,
        scale,
        || Ok(0.0),
    )
    .await?;
    let frames = latency.len();
    Ok(Row::new(
        "PostgreSQL fan-out, 2 replicas",
        format!(
            "p99 **{}**, p50 {}, max {} ({} sockets over 2 replicas × {} events = {frames} \
             frames, {missed} missed)",
            ms(latency.percentile(99.0)),
            ms(latency.percentile(50.0)),
            ms(latency.percentile(100.0)),
            scale.sockets,
            scale.fanout_rounds,
        ),
        "recorded",
        missed == 0,
    ))
}
