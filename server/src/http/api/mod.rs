//! Baton's REST API for programs, authenticated with a personal API token:
//! `Authorization: Bearer <token>` (see `baton token create`). Tokens follow the
//! browser's rules: a deactivated account or a password change voids them at once.
//!
//! Every route is registered once through [`Routes`], which takes its path and method
//! from the handler's OpenAPI annotation and records who may call it, so the router,
//! `/api/openapi.json` and the authorization tests share one list.

pub mod attachments;
pub mod canned;
pub mod customers;
pub mod export;
pub mod labels;
pub mod reports;
pub mod routing;
pub mod search;
pub mod tickets;

use axum::Json;
use axum::extract::State;
use protocol::account::Availability;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::auth::{ApiAdmin, ApiUser};
use super::error::{ErrorBody, HttpError};
use super::extract::{ApiJson, ApiQuery};
use crate::http::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any active account with a valid token.
    Account,
    /// Admins only; agents get 403.
    Admin,
}

/// One registered REST route, as its OpenAPI description names it.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    pub path: String,
    pub access: Access,
    /// Also accepts the browser's session cookie (the composer uses the route).
    pub session: bool,
}

/// The REST router with its OpenAPI description, and the list of what it serves.
/// Each route is registered once, from its handler's `#[utoipa::path]`, so the
/// router, the description and the authorization tests cannot drift apart.
pub struct Routes {
    pub router: OpenApiRouter<AppState>,
    pub list: Vec<RouteInfo>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: OpenApiRouter::new(),
            list: Vec::new(),
        }
    }

    fn add(mut self, access: Access, route: UtoipaMethodRouter<AppState>) -> Self {
        for (path, item) in &route.1.paths {
            let methods = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (method, operation) in methods {
                if operation.is_some() {
                    self.list.push(RouteInfo {
                        method,
                        path: path.clone(),
                        access,
                        session: false,
                    });
                }
            }
        }
        self.router = self.router.routes(route);
        self
    }

    /// A route that browsers call with their session as well as programs with a
    /// token. Cross-site requests are refused by the Origin check before it runs.
    fn add_with_session(self, access: Access, route: UtoipaMethodRouter<AppState>) -> Self {
        let before = self.list.len();
        let mut routes = self.add(access, route);
        for info in &mut routes.list[before..] {
            info.session = true;
        }
        routes
    }
}

/// Every REST route. Handlers of `Admin` routes take [`ApiAdmin`].
pub fn routes() -> Routes {
    Routes::new()
        .add(Access::Account, routes!(me))
        .add(Access::Account, routes!(set_availability))
        .add(Access::Admin, routes!(audit))
        .add(Access::Account, routes!(tickets::list))
        .add(Access::Account, routes!(tickets::get))
        .add(Access::Account, routes!(tickets::assign))
        .add(Access::Account, routes!(tickets::reply))
        .add(Access::Account, routes!(tickets::note))
        .add(Access::Account, routes!(tickets::close))
        .add(Access::Account, routes!(tickets::agents))
        // Shared replies are admins' to change; the handlers check per reply.
        .add(Access::Account, routes!(canned::list, canned::create))
        .add(Access::Account, routes!(canned::update, canned::delete))
        .add(Access::Account, routes!(labels::list))
        .add(Access::Admin, routes!(labels::create))
        .add(Access::Account, routes!(labels::add, labels::remove))
        .add(Access::Account, routes!(search::search))
        .add(Access::Admin, routes!(routing::list, routing::create))
        .add(Access::Admin, routes!(routing::update, routing::delete))
        .add(Access::Admin, routes!(routing::update_agent))
        .add(
            Access::Admin,
            routes!(routing::routing, routing::set_routing),
        )
        .add(Access::Admin, routes!(reports::summary))
        .add(Access::Admin, routes!(reports::agents))
        .add(Access::Admin, routes!(reports::daily))
        .add(Access::Admin, routes!(reports::groups))
        // The Reports page links to these.
        .add_with_session(Access::Admin, routes!(reports::summary_csv))
        .add_with_session(Access::Admin, routes!(reports::agents_csv))
        .add_with_session(Access::Admin, routes!(reports::daily_csv))
        .add_with_session(Access::Admin, routes!(reports::groups_csv))
        .add_with_session(Access::Admin, routes!(reports::hours_csv))
        .add(Access::Account, routes!(customers::get, customers::update))
        .add(Access::Account, routes!(customers::note))
        .add(Access::Account, routes!(customers::botpress))
        // The composer sends files through this route too.
        .add_with_session(Access::Account, routes!(attachments::upload))
        // Downloads the pages link to.
        .add_with_session(Access::Account, routes!(export::transcript))
        .add_with_session(Access::Admin, routes!(export::csv))
}

/// The token's owner, acting from the request's address, for the audit log.
fn actor(
    user: &backend::users::User,
    addr: Option<axum::Extension<backend::auth::ClientAddr>>,
) -> backend::audit::Actor {
    backend::audit::Actor {
        id: Some(user.id),
        label: user.email.clone(),
        ip: addr.map(|axum::Extension(backend::auth::ClientAddr(ip))| ip.to_string()),
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
    pub role: backend::users::Role,
    /// What the person chose (`PUT /api/v1/me/availability`).
    pub availability: Availability,
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
pub async fn me(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
) -> Result<Json<Account>, HttpError> {
    let availability = backend::accounts::availability::get(&*services.store, user.id).await?;
    Ok(Json(Account {
        id: user.id,
        public_id: user.public_id,
        email: user.email,
        name: user.name,
        role: user.role,
        availability,
    }))
}

/// An availability to choose.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityChoice {
    /// `available` or `away`. Offline is not a choice: it is having no tab open.
    pub status: Availability,
}

/// Sets whether the token's owner is available or away. It is kept until they
/// change it; colleagues see it at once while the person has a tab open.
#[utoipa::path(
    put, path = "/api/v1/me/availability", tag = "rest",
    security(("bearer" = [])),
    request_body = AvailabilityChoice,
    responses(
        (status = 200, description = "The choice, stored", body = AvailabilityChoice),
        (status = 400, description = "Not `available` or `away`", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn set_availability(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    ApiJson(choice): ApiJson<AvailabilityChoice>,
) -> Result<Json<AvailabilityChoice>, HttpError> {
    backend::accounts::availability::set(&services, &user, choice.status).await?;
    Ok(Json(choice))
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
    ApiQuery(filter): ApiQuery<backend::audit::Filter>,
) -> Result<Json<Vec<AuditEntry>>, HttpError> {
    let entries = backend::audit::list(&*services.store, &filter).await?;
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
