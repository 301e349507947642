//! The axum router state. Handlers take just the part they need through `FromRef`.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: backend::Services,
    /// Our origin, for the websocket's Origin check.
    pub origin: crate::http::security::PublicOrigin,
}
