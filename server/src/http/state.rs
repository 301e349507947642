//! The axum router state. Handlers take just the part they need through `FromRef`.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: backend::Services,
    /// Our origin, for the websocket's Origin check.
    pub origin: super::security::PublicOrigin,
    /// Per-connection request rate on the Botpress endpoints.
    pub botpress_limit: BotpressLimit,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxies: super::client_addr::TrustedProxies,
}

#[derive(Clone, Debug)]
pub struct BotpressLimit(pub std::sync::Arc<super::rate_limit::RateLimit>);
