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
use backend::realtime::{Catchup, Since};
use protocol::realtime::{ClientFrame, HEARTBEAT_SECS, MAX_TICKET_CHARS, ServerFrame, close};
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
/// "Who is here" frames (viewing, typing) a socket may send in a burst, and how
/// many more it earns a second. Typing frames come every 1.5 s and viewing ones as
/// the person moves between tickets; a loop of them only drains the bucket.
const HERE_BURST: f64 = 20.0;
const HERE_PER_SEC: f64 = 4.0;
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

async fn serve(
    services: backend::Services,
    caller: Caller,
    since: Option<Since>,
    mut ws: WebSocket,
) {
    let _open = services.metrics.websocket_opened();
    let me = Me {
        user: caller.user.id,
        agent: caller.user.public_id.clone(),
        name: caller.user.name.clone(),
    };
    // The presence tracker learns the stored availability before this socket counts
    // (after a restart it knows nobody's); a failed read leaves it as it was.
    if let Ok(choice) = backend::accounts::availability::get(&*services.store, caller.user.id).await
    {
        backend::accounts::availability::announce(&services, &caller.user, choice).await;
    }
    let sockets = services.hub.sockets();
    let user = caller.user.id;
    let (socket_id, closed, change) = sockets.register(caller);
    backend::realtime::presence_changed(&services, me.user, &me.agent, change).await;
    backend::reports::availability::sync(&services, user);
    // An agent who opens a tab may be given what waits (automatic assignment).
    services.wakers.router.wake();
    let reason = run(&services, &me, socket_id, since, &closed, &mut ws).await;
    let change = services.hub.sockets().unregister(socket_id);
    backend::realtime::presence_changed(&services, me.user, &me.agent, change).await;
    backend::reports::availability::sync(&services, user);
    if let Some(ticket) = services.hub.seats().leave(socket_id) {
        services.hub.announce_here(&ticket);
    }
    if let Some((code, reason)) = reason {
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// The socket's account, as "who is here" names it.
struct Me {
    user: i64,
    agent: String,
    name: String,
}

/// Relays events until the client leaves (None) or we end the socket (a close code
/// and reason).
/// How long a socket waits for this replica to read up to the client's last number.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

async fn run(
    services: &backend::Services,
    me: &Me,
    socket_id: u64,
    since: Option<Since>,
    closed: &tokio_util::sync::CancellationToken,
    ws: &mut WebSocket,
) -> Option<(u16, &'static str)> {
    // From another replica, a client may have seen numbers this one is still
    // reading from the events table: wait for them rather than resync.
    if let Some(since) = since.as_ref().filter(|s| s.epoch == services.hub.epoch()) {
        services.hub.reach(since.seq, CATCH_UP).await;
    }
    let backend::realtime::Subscription {
        catchup,
        mut live,
        last_seq,
    } = services.hub.subscribe(since.as_ref());
    let user = me.user;
    let mut here = services.hub.subscribe_here();
    let mut gate = HereGate::new(tokio::time::Instant::now());
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
        let typing_until = services.hub.seats().typing_until(socket_id);
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
            // Who is on the ticket this tab shows (other tickets' frames are skipped).
            frame = here.recv() => match frame {
                Ok(frame) => {
                    if services.hub.seats().ticket_of(socket_id).as_deref() == Some(&frame.ticket) {
                        ws.send(Message::Text(frame.frame.clone().into())).await.ok()?;
                    }
                }
                // Missed ones are superseded by the next; nothing to catch up on.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Some((close_code::AWAY, "server stopping")),
            },
            () = tokio::time::sleep_until(typing_until.unwrap_or_else(tokio::time::Instant::now)),
                if typing_until.is_some() => {
                if let Some(ticket) = services.hub.seats().typing_ends(socket_id, tokio::time::Instant::now()) {
                    services.hub.announce_here(&ticket);
                }
            }
            () = async { heartbeat.tick().await; } => {
                send(ws, &ServerFrame::Heartbeat).await.ok()?;
            }
            // The last flip that arrived too soon, once its second has passed.
            () = presence.due(), if presence.waiting() => {
                if let Some(active) = presence.take(tokio::time::Instant::now()) {
                    backend::realtime::presence_changed(
                        services,
                        me.user,
                        &me.agent,
                        services.hub.sockets().set_active(socket_id, active),
                    )
                    .await;
                }
            }
            frame = ws.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    // Anything else a client sends is ignored.
                    let active = match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Active) => Some(true),
                        Ok(ClientFrame::Idle) => Some(false),
                        Ok(frame) => {
                            if gate.take(tokio::time::Instant::now()) {
                                here_frame(services, me, socket_id, frame).await;
                            }
                            None
                        }
                        Err(_) => None,
                    };
                    if let Some(active) = active
                        .and_then(|a| presence.offer(a, tokio::time::Instant::now()))
                    {
                        backend::realtime::presence_changed(
                        services,
                        me.user,
                        &me.agent,
                        services.hub.sockets().set_active(socket_id, active),
                    )
                    .await;
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

/// Applies a viewing or typing frame and tells the ticket's viewers what changed.
async fn here_frame(services: &backend::Services, me: &Me, socket_id: u64, frame: ClientFrame) {
    let seats = services.hub.seats();
    let changed = match frame {
        ClientFrame::Viewing { ticket } => {
            let ticket = match ticket {
                // A name that is no ticket seats nobody (and shows nobody's name).
                Some(t) if seats.ticket_of(socket_id).as_deref() != Some(t.as_str()) => {
                    let known = t.chars().count() <= MAX_TICKET_CHARS
                        && backend::tickets::views::find_by_remote_id(
                            &*services.store,
                            me.user,
                            &t,
                        )
                        .await
                        .is_ok();
                    known.then_some(t)
                }
                other => other,
            };
            seats.view(socket_id, &me.agent, &me.name, ticket.as_deref())
        }
        ClientFrame::Typing { ticket } => {
            if seats.typing(socket_id, &ticket, tokio::time::Instant::now()) {
                vec![ticket]
            } else {
                Vec::new()
            }
        }
        ClientFrame::Active | ClientFrame::Idle => Vec::new(),
    };
    for ticket in changed {
        services.hub.announce_here(&ticket);
    }
}

/// A token bucket for "who is here" frames: [`HERE_BURST`] at once, then
/// [`HERE_PER_SEC`] a second. Frames beyond it are dropped (the client repeats
/// typing, and re-sends viewing when it reconnects).
#[derive(Debug)]
struct HereGate {
    tokens: f64,
    last: tokio::time::Instant,
}

impl HereGate {
    fn new(now: tokio::time::Instant) -> Self {
        Self {
            tokens: HERE_BURST,
            last: now,
        }
    }

    fn take(&mut self, now: tokio::time::Instant) -> bool {
        let earned = (now - self.last).as_secs_f64() * HERE_PER_SEC;
        self.tokens = (self.tokens + earned).min(HERE_BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
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
    fn here_frames_are_let_through_in_a_burst_then_a_few_a_second() {
        let start = tokio::time::Instant::now();
        let mut gate = HereGate::new(start);
        let burst = (0..100).filter(|_| gate.take(start)).count();
        assert_eq!(burst, HERE_BURST as usize);
        assert!(!gate.take(start));
        let later = start + Duration::from_secs(1);
        let more = (0..100).filter(|_| gate.take(later)).count();
        assert_eq!(more, HERE_PER_SEC as usize);
    }

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
