//! Reports over REST (admins): the same numbers as the Reports page, as JSON or CSV.
//! The CSV routes also accept the browser's session, so the page links to them.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use backend::reports::{self, AgentReport, Breakdown, Query, Shape, Summary};
use serde::Deserialize;

use crate::http::auth::{AnyCaller, ApiAdmin};
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiQuery;

/// Which period, in which time zone, for what.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, included, `YYYY-MM-DD` (at most 366 days after `from`).
    pub to: String,
    /// An IANA time zone for days and hours (default UTC).
    pub tz: Option<String>,
    /// Only this connection's tickets.
    pub connection: Option<i64>,
    /// Only the tickets of the connections this team serves.
    pub team: Option<i64>,
}

impl From<ReportQuery> for Query {
    fn from(q: ReportQuery) -> Self {
        Query {
            from: q.from,
            to: q.to,
            tz: q.tz.unwrap_or_default(),
            connection: q.connection,
            team: q.team,
        }
    }
}

async fn report(
    services: &backend::Services,
    q: ReportQuery,
) -> Result<reports::Report, HttpError> {
    Ok(reports::report(&*services.store, &q.into()).await?)
}

/// What happened to the conversations that arrived in the period.
#[utoipa::path(
    get, path = "/api/v1/reports/summary", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The numbers", body = Summary),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn summary(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Summary>, HttpError> {
    Ok(Json(report(&services, q).await?.summary))
}

/// Per agent: what they handled, how fast, and how long they were available.
#[utoipa::path(
    get, path = "/api/v1/reports/agents", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per agent", body = [AgentReport]),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn agents(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Vec<AgentReport>>, HttpError> {
    Ok(Json(report(&services, q).await?.agents))
}

/// Per day (volume, median wait and first response) and per hour of the week.
#[utoipa::path(
    get, path = "/api/v1/reports/daily", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The charts' data", body = Shape),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn daily(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Shape>, HttpError> {
    Ok(Json(report(&services, q).await?.shape))
}

/// The summary per bot and per team.
#[utoipa::path(
    get, path = "/api/v1/reports/groups", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A summary per bot and per team", body = Breakdown),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn groups(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Breakdown>, HttpError> {
    Ok(Json(report(&services, q).await?.breakdown))
}

/// A table of the report as a CSV download.
async fn csv(
    caller: backend::auth::Caller,
    services: &backend::Services,
    q: ReportQuery,
    table: &str,
) -> Result<Response, HttpError> {
    caller.admin("reports need an admin")?;
    let name = format!("{table}-{}-{}.csv", q.from, q.to);
    let r = report(services, q).await?;
    let body = match table {
        "summary" => reports::summary_csv(&r.summary),
        "agents" => reports::agents_csv(&r.agents),
        "groups" => reports::groups_csv(&r.breakdown),
        "hours" => reports::hours_csv(&r.shape.by_hour),
        _ => reports::daily_csv(&r.shape.daily),
    };
    Ok(super::export::download(body, "text/csv; charset=utf-8", &name).into_response())
}

/// The summary as CSV.
#[utoipa::path(
    get, path = "/api/v1/reports/summary.csv", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A header and one row", content_type = "text/csv"),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn summary_csv(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    csv(caller, &services, q, "summary").await
}

/// Per agent, as CSV.
#[utoipa::path(
    get, path = "/api/v1/reports/agents.csv", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per agent", content_type = "text/csv"),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn agents_csv(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    csv(caller, &services, q, "agents").await
}

/// Per day, as CSV.
#[utoipa::path(
    get, path = "/api/v1/reports/daily.csv", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per day", content_type = "text/csv"),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn daily_csv(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    csv(caller, &services, q, "daily").await
}

/// Per bot and per team, as CSV.
#[utoipa::path(
    get, path = "/api/v1/reports/groups.csv", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per bot, then per team", content_type = "text/csv"),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn groups_csv(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    csv(caller, &services, q, "groups").await
}

/// Arrivals per hour of the week, as CSV.
#[utoipa::path(
    get, path = "/api/v1/reports/hours.csv", tag = "rest",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per weekday, a column per hour", content_type = "text/csv"),
        (status = 400, description = "A bad day, range or time zone", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn hours_csv(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    csv(caller, &services, q, "hours").await
}
