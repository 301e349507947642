//! `/ws`: one websocket per tab, carrying the hub's numbered events. The frames,
//! event kinds and close codes are `protocol::realtime`'s, shared with the browser.
//!
//! Authentication is the session cookie (browsers, whose Origin must be ours) or
//! `Authorization: Bearer <token>` (programs). Anything else gets 401 before the
//! upgrade. The socket closes (code 4001) when that access ends.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use backend::auth::Caller;
use backend::realtime::{Catchup, Change, Since};
use protocol::realtime::{ClientFrame, HEARTBEAT_SECS, ServerFrame, close};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::auth::AnyCaller;
use super::error::HttpError;
use super::extract::ApiQuery;
use super::security::PublicOrigin;

/// Read and write buffer of each socket (see `socket`).
const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// Clients only send tiny presence frames; anything bigger is refused.
pub const MAX_FRAME_BYTES: usize = 4 * 1024;
const HEARTBEAT: Duration = Duration::from_secs(HEARTBEAT_SECS);
/// The least time between two presence changes a socket may cause: every change is
/// published to every socket, so a client flipping active/idle in a loop would
/// otherwise flood them all.
const PRESENCE_EVERY: Duration = Duration::from_secs(1);
/// Sockets one account may have open at once: a person with many tabs and devices
/// stays far below it; a leaked token opening sockets in a loop does not.
pub const MAX_SOCKETS_PER_ACCOUNT: usize = 32;

#[derive(Deserialize)]
pub struct Params {
    since: Option<String>,
}

pub async fn socket(
    State(services): State<backend::Services>,
    State(origin): State<PublicOrigin>,
    AnyCaller(caller): AnyCaller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<Params>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, HttpError> {
    // Browsers always send Origin on a websocket; the SameSite cookie alone does not
    // stop another site's page from opening one with it.
    if caller.by_session() && !super::security::origin_allowed(&origin, &headers) {
        return Err(HttpError::Forbidden(
            "websocket from another site refused".into(),
        ));
    }
    let upgrade = upgrade.map_err(|e| HttpError::BadRequest(e.body_text()))?;
    if services.hub.sockets().open_for(caller.user.id) >= MAX_SOCKETS_PER_ACCOUNT {
        return Err(HttpError::TooManyRequests {
            message: format!(
                "this account already has {MAX_SOCKETS_PER_ACCOUNT} live connections; close some tabs"
            ),
            retry_after: 5,
        });
    }
    let since = params.since.as_deref().and_then(Since::parse);
    Ok(upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // tungstenite allocates its read buffer up front, 128 KB by default: with a
        // thousand agents that alone was 128 MB. Our frames are small both ways.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |ws| serve(services, caller, since, ws))
        .into_response())
}

fn announce(services: &backend::Services, change: backend::realtime::presence::PresenceChange) {
    if let Some((agent, presence)) = change {
        let mut effects = backend::effects::Effects::new();
        effects.publish(Change::Presence { agent, presence });
        services.apply(effects);
    }
}

async fn serve(
    services: backend::Services,
    caller: Caller,
    since: Option<Since>,
    mut ws: WebSocket,
) {
    let _open = services.metrics.websocket_opened();
    let user = caller.user.id;
    let sockets = services.hub.sockets();
    let (socket_id, closed, change) = sockets.register(caller);
    announce(&services, change);
    let reason = run(&services, user, socket_id, since, &closed, &mut ws).await;
    announce(&services, services.hub.sockets().unregister(socket_id));
    if let Some((code, reason)) = reason {
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// Relays events until the client leaves (None) or we end the socket (a close code
/// and reason).
async fn run(
    services: &backend::Services,
    user: i64,
    socket_id: u64,
    since: Option<Since>,
    closed: &tokio_util::sync::CancellationToken,
    ws: &mut WebSocket,
) -> Option<(u16, &'static str)> {
    let backend::realtime::Subscription {
        catchup,
        mut live,
        last_seq,
    } = services.hub.subscribe(since.as_ref());
    let hello = ServerFrame::Hello {
        epoch: services.hub.epoch().to_owned(),
        seq: last_seq,
    };
    send(ws, &hello).await.ok()?;
    match catchup {
        Catchup::Resync => send(ws, &ServerFrame::Resync { seq: last_seq })
            .await
            .ok()?,
        Catchup::Events(missed) => {
            for event in missed.iter().filter(|e| e.is_for(user)) {
                send_frame(ws, event).await.ok()?;
            }
        }
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.reset();
    let mut presence = PresenceGate::default();
    loop {
        tokio::select! {
            () = closed.cancelled() => return Some((close::SIGNED_OUT, "signed out")),
            event = live.recv() => match event {
                Ok(event) => {
                    if event.is_for(user) {
                        send_frame(ws, &event).await.ok()?;
                        heartbeat.reset();
                    }
                }
                // Too slow to keep up: rather than skip events, tell it to refetch.
                Err(RecvError::Lagged(_)) => {
                    let seq = services.hub.last_seq();
                    live = live.resubscribe();
                    send(ws, &ServerFrame::Resync { seq }).await.ok()?;
                }
                Err(RecvError::Closed) => return Some((close_code::AWAY, "server stopping")),
            },
            () = async { heartbeat.tick().await; } => {
                send(ws, &ServerFrame::Heartbeat).await.ok()?;
            }
            // The last flip that arrived too soon, once its second has passed.
            () = presence.due(), if presence.waiting() => {
                if let Some(active) = presence.take(tokio::time::Instant::now()) {
                    announce(services, services.hub.sockets().set_active(socket_id, active));
                }
            }
            frame = ws.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    // Anything else a client sends is ignored.
                    let active = match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Active) => Some(true),
                        Ok(ClientFrame::Idle) => Some(false),
                        Err(_) => None,
                    };
                    if let Some(active) = active
                        .and_then(|a| presence.offer(a, tokio::time::Instant::now()))
                    {
                        announce(services, services.hub.sockets().set_active(socket_id, active));
                    }
                }
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Ok(_)) => {}
                // Includes frames over the size limit: the socket is done.
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket ended with an error");
                    return Some((close_code::SIZE, "frame too large or malformed"));
                }
            },
        }
    }
}

/// At most one presence change per [`PRESENCE_EVERY`]; a flip that comes sooner
/// waits, and only the latest waiting one counts.
#[derive(Debug, Default)]
struct PresenceGate {
    last: Option<tokio::time::Instant>,
    pending: Option<bool>,
}

impl PresenceGate {
    /// `Some` to apply now; `None` when it must wait (it is kept).
    fn offer(&mut self, active: bool, now: tokio::time::Instant) -> Option<bool> {
        if self.last.is_some_and(|last| now < last + PRESENCE_EVERY) {
            self.pending = Some(active);
            return None;
        }
        self.last = Some(now);
        self.pending = None;
        Some(active)
    }

    fn waiting(&self) -> bool {
        self.pending.is_some()
    }

    async fn due(&self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + PRESENCE_EVERY).await;
        }
    }

    fn take(&mut self, now: tokio::time::Instant) -> Option<bool> {
        let active = self.pending.take()?;
        self.last = Some(now);
        Some(active)
    }
}

async fn send_frame(ws: &mut WebSocket, event: &backend::realtime::Event) -> Result<(), ()> {
    ws.send(Message::Text(event.frame().into()))
        .await
        .map_err(|_| ())
}

async fn send(ws: &mut WebSocket, frame: &ServerFrame) -> Result<(), ()> {
    let text = serde_json::to_string(frame).map_err(|_| ())?;
    ws.send(Message::Text(text.into())).await.map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_flips_are_let_through_once_a_second_and_the_last_one_wins() {
        let start = tokio::time::Instant::now();
        let mut gate = PresenceGate::default();
        assert_eq!(gate.offer(true, start), Some(true));
        assert_eq!(gate.offer(false, start), None);
        assert_eq!(gate.offer(true, start), None);
        assert_eq!(gate.offer(false, start), None);
        assert!(gate.waiting());
        let later = start + PRESENCE_EVERY;
        assert_eq!(gate.take(later), Some(false), "the latest flip, once due");
        assert!(!gate.waiting());
        assert_eq!(
            gate.offer(true, later),
            None,
            "a second from the one just applied"
        );
        assert_eq!(gate.offer(true, later + PRESENCE_EVERY), Some(true));
    }
}
