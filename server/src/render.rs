//! The render pool: every Leptos request (pages, server functions, the 404 page) runs
//! on one of a few threads, each its own single-threaded tokio runtime.
//!
//! Why: Leptos 0.8 keeps a page's reactive graph behind locks, and when two threads
//! poll one render at once (a resource's task on one worker, the page's Suspense on
//! another) they can take those locks in opposite orders and both block for good
//! (leptos-rs/leptos#4673: the whole server stopped answering under SSR load). A
//! render started on a render thread stays there: `tokio::spawn` inside it lands on
//! the same single-threaded runtime, and the response body is polled there too, its
//! chunks handed to the connection through a channel. Renders on different threads
//! share no graph, so with one thread per core every core renders and none can
//! deadlock. Everything else (the Botpress endpoints, websockets, REST, the outbox)
//! never touches a reactive graph and runs on the multi-threaded runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Chunks of a response body in flight from its render thread to the connection.
const BODY_CHANNEL: usize = 16;

struct Worker {
    jobs: mpsc::UnboundedSender<Job>,
    /// Requests on this thread that have not finished their body yet.
    load: Arc<AtomicUsize>,
}

/// A handle to the render threads; cloning it shares them. The threads stop when the
/// last handle is dropped (each finishes the renders it holds first).
#[derive(Clone)]
pub struct RenderPool {
    workers: Arc<[Worker]>,
    /// Requests handed to the threads so far (tests check pages go through here).
    handled: Arc<std::sync::atomic::AtomicU64>,
}

impl RenderPool {
    /// Starts `threads` render threads (0: one per core).
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        };
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
            std::thread::Builder::new()
                .name(format!("baton-render-{i}"))
                .spawn(move || {
                    // A LocalSet, so that code calling `spawn_local` (as Leptos does
                    // for effects) works here as it would in a browser.
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&runtime, async move {
                        while let Some(job) = queue.recv().await {
                            tokio::task::spawn_local(job);
                        }
                    });
                    // The pool is gone: finish the renders and bodies still running.
                    runtime.block_on(local);
                })?;
            workers.push(Worker {
                jobs,
                load: Arc::new(AtomicUsize::new(0)),
            });
        }
        Ok(Self {
            workers: workers.into(),
            handled: Arc::default(),
        })
    }

    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// How many requests the render threads have been given.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Runs `request` through `next` on the least busy render thread.
    async fn render(&self, request: Request, next: Next) -> Response {
        let Some(worker) = self
            .workers
            .iter()
            .min_by_key(|w| w.load.load(Ordering::Relaxed))
        else {
            return unavailable();
        };
        self.handled.fetch_add(1, Ordering::Relaxed);
        let load = Load::new(worker.load.clone());
        let (reply, answer) = oneshot::channel();
        let job = async move {
            let mut reply = reply;
            // If the client goes away (or the request times out), stop rendering.
            let response = tokio::select! {
                response = next.run(request) => response,
                () = reply.closed() => return,
            };
            let _ = reply.send(forward_body(response, load));
        }
        .instrument(tracing::Span::current());
        if worker.jobs.send(Box::pin(job)).is_err() {
            return unavailable();
        }
        answer.await.unwrap_or_else(|_| unavailable())
    }
}

/// The middleware that sends a request to the pool.
pub async fn on_render_thread(
    State(pool): State<RenderPool>,
    request: Request,
    next: Next,
) -> Response {
    pool.render(request, next).await
}

/// A render thread that stopped (only during shutdown, or after a panic in a
/// render, which the thread survives: the task is dropped, not the runtime).
fn unavailable() -> Response {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "The server is restarting; try again in a moment.",
    )
        .into_response()
}

/// Leaves the body to be polled on this (the render) thread, where polling a Leptos
/// stream may touch its graph: a task here reads the frames, and the returned
/// response streams them to the connection from a channel.
fn forward_body(response: Response, load: Load) -> Response {
    let (parts, body) = response.into_parts();
    let (tx, rx) = mpsc::channel(BODY_CHANNEL);
    tokio::task::spawn_local(async move {
        let _load = load;
        let mut body = std::pin::pin!(body);
        loop {
            let frame = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await;
            let Some(frame) = frame else { break };
            let failed = frame.is_err();
            if tx.send(frame).await.is_err() || failed {
                break;
            }
        }
    });
    Response::from_parts(parts, Body::new(ChannelBody { rx }))
}

/// The receiving end of `forward_body`.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, axum::Error>>,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.rx.poll_recv(cx)
    }
}

/// Counts a request against its thread until its body is done or dropped.
struct Load(Arc<AtomicUsize>);

impl Load {
    fn new(counter: Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    /// What a render does: spawn a task and wait for it. Both must run on the same
    /// render thread, and the body must be produced there too.
    async fn thread_names() -> String {
        let here = std::thread::current().name().unwrap_or("?").to_owned();
        let spawned = tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap()
            .unwrap_or_default();
        format!("{here} {spawned}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn renders_and_their_tasks_stay_on_one_render_thread() {
        let pool = RenderPool::start(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let app = Router::new().route("/", get(thread_names)).layer(
            axum::middleware::from_fn_with_state(pool.clone(), on_render_thread),
        );
        let mut seen = std::collections::HashSet::new();
        let mut requests = Vec::new();
        for _ in 0..20 {
            requests
                .push(tokio::spawn(app.clone().oneshot(
                    Request::builder().uri("/").body(Body::empty()).unwrap(),
                )));
        }
        for request in requests {
            let response = request.await.unwrap().unwrap();
            let body = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
            let text = String::from_utf8(body.to_vec()).unwrap();
            let (here, spawned) = text.split_once(' ').unwrap();
            assert!(here.starts_with("baton-render-"), "{text}");
            assert_eq!(here, spawned, "a render's task left its thread");
            seen.insert(here.to_owned());
        }
        assert!(!seen.is_empty());
    }

    #[tokio::test]
    async fn a_streamed_body_arrives_whole() {
        let pool = RenderPool::start(1).unwrap();
        let app = Router::new()
            .route(
                "/",
                get(|| async {
                    let chunks = (0..100).map(|i| Ok::<_, std::io::Error>(format!("{i},")));
                    Body::from_stream(futures_util::stream::iter(chunks))
                }),
            )
            .layer(axum::middleware::from_fn_with_state(pool, on_render_thread));
        let response = app
            .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let expected: String = (0..100).map(|i| format!("{i},")).collect();
        assert_eq!(String::from_utf8(body.to_vec()).unwrap(), expected);
    }
}
