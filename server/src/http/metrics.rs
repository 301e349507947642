//! `/metrics` for Prometheus, on its own listener (`--metrics-addr`), and the
//! middleware that counts every HTTP request on the main one.
//!
//! A separate address, off unless set, so the numbers (ticket counts, traffic) are
//! never public by accident: bind it to localhost or a private interface and let
//! Prometheus scrape that.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

/// Counts the request under its route pattern. Requests no route matched (site
/// assets, unknown paths) are counted as `/pkg/{file}` or `other`, so a scanner
/// trying random paths cannot make a label per path; likewise an invented method
/// is counted as `OTHER`.
pub async fn count(
    State(services): State<backend::Services>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = backend::metrics::HttpMethod::of(request.method());
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/{file}".to_owned(),
        None => "other".to_owned(),
    };
    let response = next.run(request).await;
    services
        .metrics
        .http_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: the Prometheus text format.
async fn scrape(State(services): State<backend::Services>) -> Response {
    match services
        .metrics
        .render(&*services.store, backend::clock::now_ms())
        .await
    {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                backend::metrics::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "cannot gather the metrics");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the metrics cannot be read right now",
            )
                .into_response()
        }
    }
}

/// Serves `/metrics` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    services: backend::Services,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(services);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}
