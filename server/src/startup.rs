//! Building the application: database, listener, router.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::http;
use crate::http::state::AppState;

/// A bound, ready-to-serve Baton. `build` does all the fallible start-up work, so a
/// caller (main or a test) knows the port and the public URL before serving.
pub struct Application {
    listener: TcpListener,
    metrics: Option<TcpListener>,
    render: crate::render::RenderPool,
    router: Router,
    limits: crate::serve::Limits,
    services: backend::Services,
    local_addr: SocketAddr,
    public_url: String,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let db = crate::cli::open(config).await?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let local_addr = listener.local_addr()?;
        let metrics = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} for metrics"))?,
            ),
            None => None,
        };
        let public_url = config.public_url(local_addr);
        let mut services = backend::Services::new(db, config.backend_settings(public_url.clone()))?;
        if let backend::db::Database::Postgres(_) = &services.db
            && backend::db::transfer::claim_installation(&*services.store).await?
        {
            tracing::info!(
                "first start on this PostgreSQL database: it is now this installation's"
            );
        }
        // Several replicas may serve a PostgreSQL database: realtime events and the
        // sign-in limits go through it, so each replica sees every replica's.
        services.share_with_replicas().await?;
        // Before anyone connects: an agent's first socket must open an interval of
        // its own, not find the last run's still open and have it closed under it.
        // With replicas (PostgreSQL), the others' agents are still here: a replica that
        // died is noticed by the ones alive instead (`realtime::fleet`).
        if !services.db.is_postgres() {
            backend::close_stale_availability(&*services.store).await;
        }
        // Uploads a crash cut short.
        backend::files::Partial::sweep(&services).await;

        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .build();
        let origin = http::security::PublicOrigin::from_public_url(&public_url);
        // Long enough for "Test connection", which waits for a bot's webhook.
        let request_timeout = Duration::from_secs(config.webhook_timeout + 30).max(REQUEST_TIMEOUT);
        let render = crate::render::RenderPool::start(usize::from(config.render_threads))
            .context("cannot start the render threads")?;
        let router = router(
            request_timeout,
            render.clone(),
            AppState {
                leptos_options,
                services: services.clone(),
                origin,
                botpress_limit: crate::http::state::BotpressLimit(std::sync::Arc::new(
                    http::rate_limit::RateLimit::new(
                        config.botpress_rate_per_minute,
                        config.botpress_burst,
                    ),
                )),
                trusted_proxies: http::client_addr::TrustedProxies(std::sync::Arc::new(
                    config.trusted_proxies.clone(),
                )),
            },
        )
        .layer(sign_in_layer(
            crate::sessions::Sessions::new(&services.db)?,
            services.store.clone(),
            public_url.starts_with("https://"),
        ));
        Ok(Self {
            listener,
            metrics,
            render,
            router,
            limits: crate::serve::Limits {
                header_timeout: Duration::from_secs(config.header_timeout),
                idle_timeout: Duration::from_secs(config.idle_timeout),
                max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
            },
            services,
            local_addr,
            public_url,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The threads pages render on.
    pub fn render_pool(&self) -> &crate::render::RenderPool {
        &self.render
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn services(&self) -> &backend::Services {
        &self.services
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then closes
    /// the database cleanly (checkpointing the WAL).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let mut workers = self.services.spawn_workers(&cancel);
        workers.push(tokio::spawn(delete_expired_sessions(
            self.services.clone(),
            crate::sessions::Sessions::new(&self.services.db)?,
            cancel.clone(),
        )));
        if let Some(listener) = self.metrics {
            workers.push(tokio::spawn(http::metrics::serve(
                listener,
                self.services.clone(),
                cancel.clone().cancelled_owned(),
            )));
        }
        crate::serve::serve(self.listener, self.router, self.limits, shutdown).await;
        // Workers finish the deliveries in flight, then stop; the database goes last.
        cancel.cancel();
        for worker in workers {
            if let Err(e) = worker.await {
                tracing::error!(error = %e, "a background worker panicked");
            }
        }
        self.services.db.close().await;
        tracing::info!("Baton stopped");
        Ok(())
    }
}

/// Sessions in the database and sign-in on top of them. The cookie is HttpOnly,
/// SameSite Strict, and Secure when Baton is served over https; a session ends after
/// a week without use.
fn sign_in_layer(
    sessions: crate::sessions::Sessions,
    store: std::sync::Arc<dyn store::Store>,
    secure: bool,
) -> axum_login::AuthManagerLayer<backend::auth::AuthBackend, crate::sessions::Sessions> {
    use tower_sessions::cookie::SameSite;
    use tower_sessions::{Expiry, SessionManagerLayer};

    let sessions = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let accounts = backend::auth::AuthBackend::new(store);
    axum_login::AuthManagerLayerBuilder::new(accounts, sessions).build()
}

/// Removes sessions past their expiry, hourly, on one replica: an expired session
/// no longer signs anyone in, but its row would otherwise stay forever.
pub async fn delete_expired_sessions(
    services: backend::Services,
    sessions: crate::sessions::Sessions,
    cancel: CancellationToken,
) {
    use tower_sessions::session_store::ExpiredDeletion;
    backend::jobs::every(
        &services,
        backend::jobs::Job::SessionCleanup,
        std::time::Duration::from_secs(3600),
        &cancel,
        |_| {
            let sessions = sessions.clone();
            async move {
                sessions.delete_expired().await.map_err(|e| {
                    backend::Error::Internal(format!("deleting expired sessions: {e}"))
                })
            }
        },
    )
    .await;
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "baton_session";

/// The request span, without the Botpress endpoint token (a secret) in its path.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let shown = match path.strip_prefix("/botpress/") {
        Some(rest) => {
            let route = rest.rsplit('/').next().unwrap_or_default();
            format!("/botpress/<token>/{route}")
        }
        None => path.to_owned(),
    };
    tracing::debug_span!("request", method = %request.method(), path = %shown)
}

/// The path of every page the app renders (for tests that must cover them all).
pub fn page_paths() -> Vec<String> {
    generate_route_list(app::App)
        .iter()
        .map(|route| route.path().to_owned())
        .collect()
}

/// The least time a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest pause between two parts of a request body (an upload on a slow link
/// keeps sending; a client that stops does not keep the request open).
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

fn router(request_timeout: Duration, render: crate::render::RenderPool, state: AppState) -> Router {
    let origin = state.origin.clone();
    let routes = generate_route_list(app::App);
    let services = state.services.clone();
    let provide_services = move || provide_context(services.clone());
    let options = state.leptos_options.clone();
    let headers = http::security::header_layers();
    // Pages and server functions (both get the backend handles as context), then site
    // assets from the site root; anything else renders the 404 page. All of it runs on
    // the render threads (see `render`).
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, provide_services.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_services, app::shell))
        .layer(axum::middleware::from_fn_with_state(
            render,
            crate::render::on_render_thread,
        ));
    Router::new()
        .route("/healthz", get(http::health::healthz))
        .route("/botpress/{*rest}", post(http::botpress::endpoint))
        .route("/api/openapi.json", get(http::openapi::serve))
        .merge(http::api::routes().router.split_for_parts().0)
        .route("/readyz", get(http::health::readyz))
        .route("/ws", get(http::realtime::socket))
        .route("/files/{key}/{name}", get(http::files::download))
        .merge(pages)
        .layer(axum::middleware::from_fn(http::server_fns::error_status))
        .layer(axum::middleware::from_fn(http::server_fns::limit_body))
        .layer(axum::middleware::from_fn_with_state(
            state.services.clone(),
            http::last_seen::touch,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origin.clone(),
            http::security::reject_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origin,
            http::security::hsts,
        ))
        .layer(headers[0].clone())
        .layer(headers[1].clone())
        .layer(headers[2].clone())
        .layer(headers[3].clone())
        .layer(axum::middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            http::client_addr::attach,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            BODY_IDLE_TIMEOUT,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.services.clone(),
            http::metrics::count,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}
