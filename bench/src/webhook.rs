//! A fake bot webhook that notes when each call arrives.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::routing::post;
use tokio::sync::mpsc;

/// A call Baton made: its route (`message-from-agent`, …) and when it arrived.
pub type Arrival = (String, Instant);

pub struct Webhook {
    pub url: String,
    pub arrivals: mpsc::UnboundedReceiver<Arrival>,
}

pub async fn start() -> anyhow::Result<Webhook> {
    let (tx, arrivals) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/hook/{route}", post(arrived))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Webhook { url, arrivals })
}

async fn arrived(
    State(tx): State<mpsc::UnboundedSender<Arrival>>,
    Path(route): Path<String>,
) -> &'static str {
    let _ = tx.send((route, Instant::now()));
    "{}"
}
