//! The HTTP server loop: `axum::serve` plus the limits it lacks.
//!
//! `axum::serve` sets no deadlines and no connection cap, so a client that sends
//! nothing, or its request one byte a minute (slowloris), keeps a socket, and enough
//! of them shut everyone else out. Here:
//!
//! - past a number of open connections, new ones are closed at once instead of queued;
//! - every connection must send its first bytes, and its first request's headers,
//!   within the header timeout, on HTTP/1 and HTTP/2 alike (hyper's own header
//!   timeout starts only once HTTP/1 is chosen, and HTTP/2 has none);
//! - on HTTP/1, each later request's headers have the same deadline (hyper's);
//! - a connection with no request in flight for the idle timeout is shut down
//!   gracefully, and closed outright if it is still there a header timeout later
//!   (an HTTP/2 client that never answers the GOAWAY's ping);
//! - HTTP/2 pings idle peers and drops those that stop answering, and bounds the
//!   streams one connection may open at once.
//!
//! Request and body timeouts are router layers (see `startup`). Shutdown is
//! graceful: in-flight requests finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How often HTTP/2 pings a connection that has sent nothing; a peer that does not
/// answer within the header timeout is dropped.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);

/// Streams one HTTP/2 connection may have open at once. A browser opens a handful;
/// the cap keeps one connection from taking every request slot.
const H2_MAX_STREAMS: u32 = 100;

/// What every HTTP/2 connection opens with. A connection whose first bytes could
/// still become it is neither protocol yet.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a connection has to send its first bytes, and each request its headers.
    pub header_timeout: Duration,
    /// Time a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// Connections open at once; more are closed on arrival.
    pub max_connections: usize,
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let builder = Arc::new(builder(&limits));
    let (stop, stopping) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = limits.max_connections,
                "connection limit reached; closing a new connection"
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            limits,
            peer,
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it ends: all of them back means all done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period");
    }
}

fn builder(limits: &Limits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        // Websockets over HTTP/2 need the CONNECT protocol (as in `axum::serve`).
        .enable_connect_protocol()
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(limits.header_timeout)
        .max_concurrent_streams(H2_MAX_STREAMS);
    builder
}

/// One accepted connection and what it needs to serve it.
struct Connection {
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    limits: Limits,
    peer: SocketAddr,
    stopping: watch::Receiver<bool>,
}

/// Where a connection stands, for its watchdog.
enum Phase {
    Open,
    /// Asked to finish (idle, or the server stopping) at that moment.
    Closing(Instant),
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let accepted = Instant::now();
        let timeout = self.limits.header_timeout;
        if !matches!(
            tokio::time::timeout(timeout, first_bytes(&stream)).await,
            Ok(true)
        ) {
            tracing::debug!(peer = %self.peer, "no request within the header timeout");
            return;
        }
        let activity = Arc::new(Activity::default());
        let (router, peer, counted) = (self.router.clone(), self.peer, activity.clone());
        // The router, counting the connection's requests in flight from their headers
        // to the last byte of their answer.
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let connect = request.method() == Method::CONNECT;
            let busy = counted.begin();
            let app = router.clone();
            async move {
                let response = app.oneshot(request).await?;
                // A websocket over HTTP/2 (an accepted extended CONNECT) lives on in
                // its stream after the answer: the connection is not idle while it
                // does. A refused CONNECT (anyone can send one) changes nothing.
                if connect && response.status().is_success() {
                    busy.0.lock().long_lived = true;
                }
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        // The answer's body owns the mark: it goes once the body is sent.
                        let _owned = &busy;
                        frame
                    }))
                }))
            }
        });
        let served = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service);
        let mut served = std::pin::pin!(served);
        let mut phase = Phase::Open;
        let mut server_stopping = *self.stopping.borrow();
        if server_stopping {
            served.as_mut().graceful_shutdown();
            phase = Phase::Closing(Instant::now());
        }
        loop {
            let deadline = activity.deadline(accepted, &phase, &self.limits, server_stopping);
            let changed = activity.changed.notified();
            tokio::select! {
                result = served.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = changed => {}
                _ = self.stopping.changed(), if !server_stopping => {
                    server_stopping = true;
                    if matches!(phase, Phase::Open) {
                        served.as_mut().graceful_shutdown();
                        phase = Phase::Closing(Instant::now());
                    }
                }
                () = sleep_until(deadline) => match phase {
                    Phase::Open if activity.started() => {
                        tracing::debug!(peer = %self.peer, "idle connection: shutting it down");
                        served.as_mut().graceful_shutdown();
                        phase = Phase::Closing(Instant::now());
                    }
                    // No request yet (silence, a partial HTTP/2 preface, HTTP/2
                    // headers that never end), or idle and deaf to the shutdown.
                    _ => {
                        tracing::debug!(peer = %self.peer, "closing a connection that sends no request");
                        return;
                    }
                },
            }
        }
    }
}

/// Sleeps until `deadline`, or for ever.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits until the connection has sent enough to tell an HTTP/2 preface from an
/// HTTP/1 request line; false when it closed first. The bytes stay unread for hyper.
async fn first_bytes(stream: &TcpStream) -> bool {
    let mut buf = [0u8; H2_PREFACE.len()];
    loop {
        let n = match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if n == buf.len() || buf[..n] != H2_PREFACE[..n] {
            return true;
        }
        // Part of the preface: `peek` returns at once while those bytes wait unread,
        // so pause rather than spin until the rest (or the deadline) comes.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a connection's watchdog needs to know of its requests.
#[derive(Default)]
struct Activity {
    state: Mutex<ActivityState>,
    /// Told when a request starts or ends, so the watchdog recomputes its deadline.
    changed: Notify,
}

#[derive(Default)]
struct ActivityState {
    in_flight: usize,
    started: bool,
    /// It carries a websocket over HTTP/2.
    long_lived: bool,
    /// Since when nothing is in flight (`None` before the first request).
    idle_since: Option<Instant>,
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin(self: &Arc<Self>) -> Busy {
        {
            let mut state = self.lock();
            state.in_flight += 1;
            state.started = true;
            state.idle_since = None;
        }
        self.changed.notify_one();
        Busy(self.clone())
    }

    fn started(&self) -> bool {
        self.lock().started
    }

    /// When the watchdog acts next, if nothing changes: `None` while a request is in
    /// flight, or while the server's own shutdown waits for the connection.
    fn deadline(
        &self,
        accepted: Instant,
        phase: &Phase,
        limits: &Limits,
        server_stopping: bool,
    ) -> Option<Instant> {
        let state = self.lock();
        if !state.started {
            return Some(accepted + limits.header_timeout);
        }
        if state.in_flight > 0 || state.long_lived {
            return None;
        }
        let idle_since = state.idle_since?;
        match phase {
            Phase::Open => Some(idle_since + limits.idle_timeout),
            Phase::Closing(_) if server_stopping => None,
            Phase::Closing(at) => Some((*at).max(idle_since) + limits.header_timeout),
        }
    }
}

/// A request in flight; ending it marks the connection idle when it was the last.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut state = self.0.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight == 0 {
                state.idle_since = Some(Instant::now());
            }
        }
        self.0.changed.notify_one();
    }
}
