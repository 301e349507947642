//! Outbox: from an agent's reply (REST) to the bot's webhook receiving it.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::process::{Baton, scratch};
use crate::report::Row;
use crate::seed::{self, Botpress};
use crate::stats::{Samples, ms};
use crate::webhook::Webhook;
use crate::{Config, Scale};

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let mut webhook = crate::webhook::start().await?;
    let (dir, database) = scratch()?;
    let token = seed::connection(&database, &webhook.url).await?;
    let agent = seed::agents(&database, 1).await?.remove(0);
    let baton = Baton::start(config, dir, database).await?;
    let botpress = Botpress::new(&baton.base, &token);
    let customer = botpress.customer().await?;
    let ticket = botpress.escalate("Outbox").await?;
    botpress.says(&ticket, &customer, "I need a human").await?;

    let client = reqwest::Client::new();
    let assign = client
        .post(baton.url(&format!("/api/v1/tickets/{ticket}/assign")))
        .bearer_auth(&agent)
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(assign.status().is_success(), "assign: {}", assign.status());
    next_call(&mut webhook, "agent-assigned").await?;

    let url = baton.url(&format!("/api/v1/tickets/{ticket}/messages"));
    let mut latency = Samples::default();
    for i in 0..scale.replies {
        let sent = Instant::now();
        let reply = client
            .post(&url)
            .bearer_auth(&agent)
            .json(&json!({"text": format!("Reply {i}")}))
            .send()
            .await?;
        anyhow::ensure!(reply.status().is_success(), "reply: {}", reply.status());
        let arrived = next_call(&mut webhook, "message-from-agent").await?;
        latency.push(arrived.duration_since(sent));
    }
    let p50 = latency.percentile(50.0);
    Ok(vec![Row::new(
        "Outbox",
        format!(
            "p50 **{}**, p99 {} ({} replies, one at a time)",
            ms(p50),
            ms(latency.percentile(99.0)),
            latency.len()
        ),
        "p50 ≤ 5 ms",
        p50 <= Duration::from_millis(5),
    )])
}

/// When the next call on `route` reached the fake webhook.
async fn next_call(webhook: &mut Webhook, route: &str) -> anyhow::Result<Instant> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (got, at) = tokio::time::timeout_at(deadline, webhook.arrivals.recv())
            .await
            .with_context(|| format!("no {route} call within 10 s"))?
            .context("the fake webhook stopped")?;
        if got == route {
            return Ok(at);
        }
    }
}
