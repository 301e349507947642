//! Search over REST: the same search as the inbox's box (`backend::search`).

use axum::Json;
use axum::extract::State;
use backend::search::{DEFAULT_LIMIT, Hit, RawFilters};
use serde::{Deserialize, Serialize};

use crate::http::auth::ApiUser;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiQuery;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words to find (every one must match, as a prefix), at most 200 characters.
    pub q: String,
    /// `queued`, `assigned` or `closed`.
    pub status: Option<String>,
    /// A label's id.
    pub label: Option<String>,
    /// An agent's public id: tickets they hold.
    pub agent: Option<String>,
    /// A connection's id.
    pub connection: Option<String>,
    /// Tickets created on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Tickets created on or before this day.
    pub to: Option<String>,
    /// Messages and notes to return, 1 to 100 (default 30).
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// Customers (up to 5) and tickets (up to 10) whose names match, then messages
    /// and notes, newest first.
    pub hits: Vec<Hit>,
}

/// Searches customers, ticket titles, messages and notes, open and closed.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "rest",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "The hits", body = SearchResults),
        (status = 400, description = "No words, a query over 200 characters, a bad filter", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn search(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResults>, HttpError> {
    let filters = RawFilters {
        status: query.status,
        label: query.label,
        agent: query.agent,
        connection: query.connection,
        from: query.from,
        to: query.to,
    }
    .resolve(&*services.store)
    .await?;
    let hits = backend::search::search(
        &*services.store,
        user.id,
        &query.q,
        &filters,
        query.limit.unwrap_or(DEFAULT_LIMIT),
    )
    .await?;
    Ok(Json(SearchResults { hits }))
}
