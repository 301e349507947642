//! Fan-out: many agents' websockets, and the time from a Botpress POST to the event
//! frame at each socket. Also the server's memory with those sockets open.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::process::{Baton, scratch};
use crate::report::Row;
use crate::seed::{self, Botpress};
use crate::stats::{Samples, ms};
use crate::{Config, Scale};

/// Between two customer messages: long enough that every socket has the previous
/// frame, so each round measures one event, not a queue of them.
const GAP: Duration = Duration::from_millis(50);

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let webhook = crate::webhook::start().await?;
    let (dir, database) = scratch()?;
    let token = seed::connection(&database, &webhook.url).await?;
    let agents = seed::agents(&database, scale.sockets).await?;
    let baton = Baton::start(config, dir, database).await?;
    let botpress = Botpress::new(&baton.base, &token);
    let customer = botpress.customer().await?;
    let ticket = botpress.escalate("Fan-out").await?;

    let (mut latency, missed, rss) = measure(
        std::slice::from_ref(&baton.base),
        &agents,
        &botpress,
        &customer,
        &ticket,
        scale,
        || baton.rss_mib(),
    )
    .await?;
    let p99 = latency.percentile(99.0);
    let frames = latency.len();
    Ok(vec![
        Row::new(
            "Fan-out",
            format!(
                "p99 **{}**, p50 {}, max {} ({} sockets × {} events = {frames} frames, \
                 {missed} missed)",
                ms(p99),
                ms(latency.percentile(50.0)),
                ms(latency.percentile(100.0)),
                scale.sockets,
                scale.fanout_rounds,
            ),
            "p99 ≤ 5 ms",
            p99 <= Duration::from_millis(5) && missed == 0,
        ),
        Row::new(
            "Memory, sockets",
            format!("RSS **{rss:.1} MB** with {} websockets open", scale.sockets),
            "≤ 100 MB",
            rss <= 100.0,
        ),
    ])
}

/// Opens one socket per agent token, spread over `bases` in turn, sends
/// `scale.fanout_rounds` customer messages through `botpress`, and returns each
/// frame's latency, the frames missed, and `rss()` once every socket is open.
pub(crate) async fn measure(
    bases: &[String],
    agents: &[String],
    botpress: &Botpress,
    customer: &str,
    ticket: &str,
    scale: &Scale,
    rss: impl Fn() -> anyhow::Result<f64>,
) -> anyhow::Result<(Samples, usize, f64)> {
    let (ready_tx, mut ready_rx) = mpsc::channel(agents.len());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sockets = JoinSet::new();
    for (i, agent) in agents.iter().enumerate() {
        let base = &bases[i % bases.len()];
        let ws_url = base.replacen("http://", "ws://", 1) + "/ws";
        let mut request = ws_url.as_str().into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {agent}").parse()?);
        sockets.spawn(listen(request, ready_tx.clone(), stop_rx.clone()));
        // Connect in waves, as a team's browsers would, not all in one instant.
        if sockets.len() % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(ready_tx);
    for _ in 0..agents.len() {
        tokio::time::timeout(Duration::from_secs(30), ready_rx.recv())
            .await
            .context("not every websocket connected within 30 s")?
            .context("a websocket failed to connect")?;
    }
    // Let the presence events of all those arrivals settle before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = rss()?;

    let mut sent_at = Vec::with_capacity(scale.fanout_rounds);
    for i in 0..scale.fanout_rounds {
        sent_at.push(Instant::now());
        botpress
            .says(ticket, customer, &format!("Message {i}"))
            .await?;
        tokio::time::sleep(GAP).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_tx.send(true);

    let mut latency = Samples::default();
    let mut missed = 0usize;
    while let Some(joined) = sockets.join_next().await {
        let arrivals = joined??;
        missed += scale.fanout_rounds.saturating_sub(arrivals.len());
        for (arrived, sent) in arrivals.iter().zip(&sent_at) {
            latency.push(arrived.duration_since(*sent));
        }
    }
    Ok((latency, missed, rss))
}

/// One agent's socket: says when it is connected, then notes when each
/// `message_added` frame arrives until told to stop.
async fn listen(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ready: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Vec<Instant>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let mut arrivals = Vec::new();
    let mut hello = false;
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(arrivals),
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let now = Instant::now();
                    if !hello {
                        hello = true;
                        let _ = ready.send(()).await;
                    } else if text.contains("\"message_added\"") {
                        arrivals.push(now);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("the server closed a websocket"),
            }
        }
    }
}
