//! Production numbers, in the Prometheus text format.
//!
//! One registry per [`Services`](crate::Services), not a global one, so that each
//! Baton in a process (the tests run many) counts only its own traffic. Counters and
//! histograms are updated where things happen; the gauges that describe stored state
//! (the outbox queue, the ticket queue) are read from the database at scrape time,
//! so they are exact even after a restart and cost nothing between scrapes.
//!
//! The server serves [`Metrics::render`] on its own address (`--metrics-addr`); the
//! README lists every metric.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::Result;

/// `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `method` label of the HTTP metrics. A client may send any token as a
/// method, so the raw one would let anyone add a series per request (and grow every
/// scrape without bound); anything but the standard methods is counted as `OTHER`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

impl HttpMethod {
    pub fn of(method: &http::Method) -> Self {
        match *method {
            http::Method::GET => Self::Get,
            http::Method::HEAD => Self::Head,
            http::Method::POST => Self::Post,
            http::Method::PUT => Self::Put,
            http::Method::DELETE => Self::Delete,
            http::Method::CONNECT => Self::Connect,
            http::Method::OPTIONS => Self::Options,
            http::Method::TRACE => Self::Trace,
            http::Method::PATCH => Self::Patch,
            _ => Self::Other,
        }
    }

    /// The label value: the method as it is written on the wire, or `OTHER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
            Self::Patch => "PATCH",
            Self::Other => "OTHER",
        }
    }
}

// By hand rather than derived: the derive writes the variant's name (`Get`), and
// dashboards expect the method as sent (`GET`).
impl EncodeLabelValue for HttpMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: HttpMethod,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: HttpMethod,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BotpressInLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BotpressOutLabels {
    route: &'static str,
    outcome: &'static str,
}

/// Latency buckets from 0.5 ms to about 16 s, doubling.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The instruments (`Services` holds them in an `Arc`).
pub struct Metrics {
    registry: Arc<Registry>,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    botpress_in: Family<BotpressInLabels, Counter>,
    botpress_in_seconds: Family<BotpressInLabels, Histogram, fn() -> Histogram>,
    botpress_out: Family<BotpressOutLabels, Counter>,
    botpress_out_seconds: Family<BotpressOutLabels, Histogram, fn() -> Histogram>,
    websockets: Gauge,
    writer_batch: Histogram,
    writer_commit_seconds: Histogram,
    busy: Counter,
    outbox_pending: Gauge,
    outbox_oldest_seconds: Gauge<f64, AtomicU64>,
    tickets_queued: Gauge,
    tickets_oldest_wait_seconds: Gauge<f64, AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("baton");
        let this = Self {
            registry: Arc::default(),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(latency_buckets),
            botpress_in: Family::default(),
            botpress_in_seconds: Family::new_with_constructor(latency_buckets),
            botpress_out: Family::default(),
            botpress_out_seconds: Family::new_with_constructor(latency_buckets),
            websockets: Gauge::default(),
            // 1, 2, 4 … 256 writes per commit (the writer takes at most 128).
            writer_batch: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            writer_commit_seconds: latency_buckets(),
            busy: Counter::default(),
            outbox_pending: Gauge::default(),
            outbox_oldest_seconds: Gauge::default(),
            tickets_queued: Gauge::default(),
            tickets_oldest_wait_seconds: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route (the path pattern), method and status",
            this.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to its response head), by route and method",
            this.http_seconds.clone(),
        );
        registry.register(
            "botpress_requests",
            "Calls Botpress made to the five endpoints, by route and status",
            this.botpress_in.clone(),
        );
        registry.register(
            "botpress_request_duration_seconds",
            "Time to answer Botpress (including the commit), by route and status",
            this.botpress_in_seconds.clone(),
        );
        registry.register(
            "webhook_calls",
            "Calls to bots' webhooks, by route and outcome (sent, not_landed, \
             may_have_landed, refused)",
            this.botpress_out.clone(),
        );
        registry.register(
            "webhook_call_duration_seconds",
            "Time a webhook call took, by route and outcome",
            this.botpress_out_seconds.clone(),
        );
        registry.register(
            "websockets_open",
            "Realtime websockets open now",
            this.websockets.clone(),
        );
        registry.register(
            "writer_batch_writes",
            "Writes committed together by the group-commit writer, per commit",
            this.writer_batch.clone(),
        );
        registry.register(
            "writer_commit_duration_seconds",
            "Time from a batch's BEGIN to its COMMIT returning (fsync included)",
            this.writer_commit_seconds.clone(),
        );
        registry.register(
            "sqlite_busy_errors",
            "Statements that failed because SQLite stayed locked past busy_timeout",
            this.busy.clone(),
        );
        registry.register(
            "outbox_pending",
            "Webhook calls waiting to be delivered (pending or being sent)",
            this.outbox_pending.clone(),
        );
        registry.register(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest webhook call still waiting; 0 when none is",
            this.outbox_oldest_seconds.clone(),
        );
        registry.register(
            "tickets_queued",
            "Tickets waiting for an agent",
            this.tickets_queued.clone(),
        );
        registry.register(
            "tickets_oldest_wait_seconds",
            "How long the oldest queued ticket has waited since it was created; 0 when \
             none waits",
            this.tickets_oldest_wait_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            ..this
        }
    }

    /// An HTTP request was answered. `route` is the router's path pattern
    /// (`/inbox/{id}`), never the raw path, so ids and secrets stay out of labels.
    pub fn http_request(&self, method: HttpMethod, route: String, status: u16, took: Duration) {
        // Labels are only copied into the family the first time they are seen, so
        // the route string made per request is all the allocation this costs.
        let labels = RouteLabels { method, route };
        self.http_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                method: labels.method,
                route: labels.route,
                status,
            })
            .inc();
    }

    /// Botpress called one of the five endpoints (`route` is its name, or `unknown`).
    pub fn botpress_request(&self, route: &'static str, status: u16, took: Duration) {
        let labels = BotpressInLabels { route, status };
        self.botpress_in.get_or_create(&labels).inc();
        self.botpress_in_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The outbox called a bot's webhook.
    pub fn webhook_call(&self, route: &'static str, outcome: &'static str, took: Duration) {
        let labels = BotpressOutLabels { route, outcome };
        self.botpress_out.get_or_create(&labels).inc();
        self.botpress_out_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts a websocket as open until the returned guard is dropped.
    pub fn websocket_opened(&self) -> OpenSocket {
        self.websockets.inc();
        OpenSocket(self.websockets.clone())
    }

    /// The group-commit writer committed `writes` in `took`.
    pub fn writer_commit(&self, writes: usize, took: Duration) {
        self.writer_batch.observe(writes as f64);
        self.writer_commit_seconds.observe(took.as_secs_f64());
    }

    /// The scrape: reads the stored state's gauges, then encodes everything.
    pub async fn render(&self, store: &dyn store::Store, now_ms: i64) -> Result<String> {
        let mut tx = store.read().await?;
        let (pending, oldest_call) = tx.outbox_backlog().await?;
        let (queued, oldest_ticket) = tx.queue_backlog().await?;
        drop(tx);
        let age = |since: Option<i64>| since.map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0);
        self.outbox_pending.set(pending);
        self.outbox_oldest_seconds.set(age(oldest_call));
        self.tickets_queued.set(queued);
        self.tickets_oldest_wait_seconds.set(age(oldest_ticket));
        // The counter only ever grows; bring it up to the process-wide count.
        let busy = crate::error::busy_errors();
        let counted = self.busy.get();
        if busy > counted {
            self.busy.inc_by(busy - counted);
        }
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .map_err(|e| crate::Error::Internal(format!("encoding metrics: {e}")))?;
        Ok(text)
    }
}

/// An open websocket, counted in `baton_websockets_open` while it lives.
#[derive(Debug)]
pub struct OpenSocket(Gauge<i64, AtomicI64>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_methods_keep_their_name() {
        for name in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        ] {
            let method = http::Method::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(HttpMethod::of(&method).as_str(), name);
        }
    }

    #[test]
    fn any_other_method_is_other() {
        // Methods are case-sensitive: `get` is not `GET`.
        for name in ["FOOBAR", "X1", "get", "PROPFIND"] {
            let method = http::Method::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(HttpMethod::of(&method), HttpMethod::Other, "{name}");
        }
    }
}
