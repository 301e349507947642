//! Server functions, grouped by domain. Each one is thin: check access, take
//! [`backend::Services`] from context, call the backend, map the error.
//!
//! Every function names an explicit `endpoint`, so its URL (`/api/<endpoint>`) is
//! stable for tests and tools instead of carrying a build hash.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod connections;
pub mod customers;
pub mod inbox;
pub mod labels;
pub mod profile;
pub mod reports;
pub mod routing;
pub mod search;
pub mod status;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use leptos::prelude::use_context;

    /// The sign-in state of this request (set up by the server's auth layer).
    pub async fn auth() -> Result<backend::auth::AuthSession, AppError> {
        leptos_axum::extract::<backend::auth::AuthSession>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "no auth session on the request");
                AppError::Internal
            })
    }

    /// The signed-in account, or `Unauthorized`. Every server function that is not
    /// public starts with this (or with an admin check built on it). The answer
    /// comes from `backend::auth`, as for the REST API and the websocket.
    pub async fn signed_in() -> Result<backend::auth::Caller, AppError> {
        backend::auth::session_caller(&auth().await?).ok_or(AppError::Unauthorized)
    }

    /// The signed-in admin, or `Unauthorized` / `Forbidden`. Every admin server
    /// function starts with this; it also names the admin for the audit log.
    pub async fn admin() -> Result<(backend::auth::Caller, backend::audit::Actor), AppError> {
        let user = signed_in().await?;
        if !user.is_admin() {
            return Err(AppError::Forbidden);
        }
        let actor = actor(&user.user).await;
        Ok((user, actor))
    }

    /// `user`, acting from this request's address, for the audit log.
    pub async fn actor(user: &backend::users::User) -> backend::audit::Actor {
        backend::audit::Actor {
            id: Some(user.id),
            label: user.email.clone(),
            ip: client_ip().await,
        }
    }

    /// Records an admin action in the audit log.
    pub async fn audit(
        actor: &backend::audit::Actor,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        backend::audit::audit(&*services()?.store, actor, action, detail).await?;
        Ok(())
    }

    /// Tells the client when to try again (with a 429 or 503).
    pub fn retry_after(seconds: u64) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(value) = http::HeaderValue::from_str(&seconds.to_string())
        {
            response.insert_header(http::header::RETRY_AFTER, value);
        }
    }

    /// The client's address, for rate limits: the TCP peer, or the client a trusted
    /// proxy names (the server resolves it once per request).
    pub async fn client_addr() -> Option<std::net::IpAddr> {
        leptos_axum::extract::<axum::Extension<backend::auth::ClientAddr>>()
            .await
            .ok()
            .map(|axum::Extension(backend::auth::ClientAddr(ip))| ip)
    }

    /// [`client_addr`] as the audit log writes it.
    pub async fn client_ip() -> Option<String> {
        client_addr().await.map(|ip| ip.to_string())
    }

    /// The backend handles the server provides to every server function and SSR render.
    pub fn services() -> Result<backend::Services, AppError> {
        use_context::<backend::Services>().ok_or_else(|| {
            tracing::error!("backend::Services missing from the Leptos context");
            AppError::Internal
        })
    }
}
