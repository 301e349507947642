//! Baton's REST API for programs, authenticated with a personal API token:
//! `Authorization: Bearer <token>` (see `baton token create`). Tokens follow the
//! browser's rules: a deactivated account or a password change voids them at once.
//!
//! Every route is registered through [`Routes`], which records who may call it, so
//! the authorization tests walk the same list the router is built from.

pub mod tickets;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, FromRequestParts, Query};
use axum::handler::Handler;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::MethodRouter;
use serde::Serialize;

use super::error::{ErrorBody, HttpError};
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any active account with a valid token.
    Account,
    /// Admins only; agents get 403.
    Admin,
}

/// One registered REST route.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// Also accepts the browser's session cookie (the composer uses the route).
    pub session: bool,
}

/// The REST router together with the list of what it serves.
pub struct Routes {
    pub router: axum::Router<AppState>,
    pub list: Vec<RouteInfo>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: axum::Router::new(),
            list: Vec::new(),
        }
    }

    fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, access, MethodRouter::new().get(handler))
    }

    fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, access, MethodRouter::new().post(handler))
    }

    /// A POST route that browsers call with their session as well as programs with a
    /// token. Cross-site requests are refused by the Origin check before it runs.
    fn post_with_session<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let mut routes = self.post(path, Access::Account, handler);
        if let Some(last) = routes.list.last_mut() {
            last.session = true;
        }
        routes
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.list.push(RouteInfo {
            method,
            path,
            access,
            session: false,
        });
        self.router = self.router.route(path, handler);
        self
    }
}

/// Every REST route. Handlers of `Admin` routes take [`ApiAdmin`].
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/me", Access::Account, me)
        .get("/api/v1/audit", Access::Admin, audit)
        .get("/api/v1/tickets", Access::Account, tickets::list)
        .get("/api/v1/tickets/{id}", Access::Account, tickets::get)
        .post(
            "/api/v1/tickets/{id}/assign",
            Access::Account,
            tickets::assign,
        )
        .post(
            "/api/v1/tickets/{id}/messages",
            Access::Account,
            tickets::reply,
        )
        .post(
            "/api/v1/tickets/{id}/close",
            Access::Account,
            tickets::close,
        )
        .get("/api/v1/agents", Access::Account, tickets::agents)
        // The composer sends files through this route too.
        .post_with_session("/api/v1/tickets/{id}/attachments", super::files::upload)
}

/// The account a request's bearer token belongs to.
pub struct ApiUser(pub backend::users::User);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let services = backend::Services::from_ref(state);
        let token = bearer_token(&parts.headers)?
            .ok_or_else(|| HttpError::Unauthorized("an API token is required".into()))?;
        let user = backend::accounts::authenticate_token(&services.db, token)
            .await?
            .ok_or_else(|| HttpError::Unauthorized("the API token is not valid".into()))?;
        services.last_seen.touch(&services.db, user.id).await?;
        Ok(ApiUser(user))
    }
}

/// The bearer token of a request: `None` without an `Authorization` header, an
/// error for one that is not `Bearer <token>`.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<Option<&str>, HttpError> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    header
        .to_str()
        .ok()
        .and_then(|h| {
            h.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .map(|_| h[7..].trim())
        })
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| {
            HttpError::Unauthorized("use the header Authorization: Bearer <token>".into())
        })
}

/// An [`ApiUser`] who is an admin; an agent's token gets 403.
pub struct ApiAdmin(pub backend::users::User);

impl<S> FromRequestParts<S> for ApiAdmin
where
    S: Send + Sync,
    backend::Services: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        if user.role != backend::users::Role::Admin.as_str() {
            return Err(HttpError::Forbidden("this needs an admin's token".into()));
        }
        Ok(ApiAdmin(user))
    }
}

/// The token's account, as programs see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: i64,
    /// The id Botpress sees for this person (`remoteUserId`).
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// Who this token belongs to.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "rest",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's account", body = Account),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn me(ApiUser(user): ApiUser) -> Json<Account> {
    Json(Account {
        id: user.id,
        public_id: user.public_id,
        email: user.email,
        name: user.name,
        role: user.role,
    })
}

/// An audit log entry.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC milliseconds since the Unix epoch.
    pub at: i64,
    /// The email of who acted, or `cli`.
    pub actor: String,
    pub ip: Option<String>,
    pub action: String,
    /// What the action was about.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The audit log, newest first, 100 entries a page; page back with `before`.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "rest",
    security(("bearer" = [])),
    params(
        ("actor" = Option<String>, Query, description = "Part of the actor's email"),
        ("action" = Option<String>, Query, description = "The start of an action name, e.g. `login`"),
        ("before" = Option<i64>, Query, description = "Only entries with a smaller id"),
    ),
    responses(
        (status = 200, description = "Entries", body = [AuditEntry]),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn audit(
    ApiAdmin(_): ApiAdmin,
    axum::extract::State(services): axum::extract::State<backend::Services>,
    filter: Result<Query<backend::accounts::audit_log::Filter>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, HttpError> {
    let Query(filter) = filter.map_err(|e| HttpError::BadRequest(e.body_text()))?;
    let entries = backend::accounts::audit_log::list(&services.db, &filter).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditEntry {
                id: e.id,
                at: e.at,
                actor: e.actor,
                ip: e.ip,
                action: e.action,
                detail: serde_json::from_str(&e.detail).unwrap_or_default(),
            })
            .collect(),
    ))
}
