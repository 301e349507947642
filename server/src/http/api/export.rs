//! Exports: a conversation's transcript (text or JSON), and the admins' CSV of the
//! tickets created in a date range, streamed a page at a time. Both accept the
//! browser's session as well as a token, so the pages link to them directly.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use backend::auth::ClientAddr;
use backend::tickets::export::{self, CSV_HEADER};
use backend::tickets::views;
use serde::Deserialize;

use crate::http::auth::AnyCaller;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiQuery;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TranscriptQuery {
    /// `text` (the default: readable, without private notes) or `json` (everything,
    /// notes marked).
    pub format: Option<String>,
}

/// A download: the body, its type, and the file name the browser saves it under.
pub(super) fn download(body: impl Into<Body>, kind: &'static str, file: &str) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // File names are ours (ticket ids, dates): nothing to escape, but be strict.
    let safe: String = file
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A conversation as a file: readable text, or JSON with the private notes.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/transcript", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress"), TranscriptQuery),
    responses(
        (status = 200, description = "The transcript, as an attachment: text/plain, or application/json with format=json", content_type = "text/plain"),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn transcript(
    AnyCaller(caller): AnyCaller,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TranscriptQuery>,
) -> Result<Response, HttpError> {
    let json = match query.format.as_deref().unwrap_or("text") {
        "text" => false,
        "json" => true,
        other => {
            return Err(HttpError::BadRequest(format!(
                "format must be text or json, not {other:?}"
            )));
        }
    };
    let ticket = views::find_by_remote_id(&*services.store, caller.user.id, &id).await?;
    let transcript = export::transcript(&*services.store, caller.user.id, ticket).await?;
    let remote = transcript.ticket.remote_id.clone();
    Ok(if json {
        let body = serde_json::to_vec_pretty(&transcript)
            .map_err(|e| HttpError::Internal(anyhow::anyhow!("transcript JSON: {e}")))?;
        download(body, "application/json", &format!("{remote}.json"))
    } else {
        download(
            transcript.text(),
            "text/plain; charset=utf-8",
            &format!("{remote}.txt"),
        )
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CsvQuery {
    /// The first day (`YYYY-MM-DD`, UTC) of tickets created; from the start if absent.
    pub from: Option<String>,
    /// The last day, included; up to now if absent.
    pub to: Option<String>,
}

/// How many tickets each step of the CSV stream reads.
const CSV_PAGE: i64 = 500;

/// The tickets created in a date range as CSV (admins): one line each, with its
/// status, customer, agent, dates, message count and labels. Streamed.
#[utoipa::path(
    get, path = "/api/v1/tickets/export.csv", tag = "rest",
    security(("bearer" = [])),
    params(CsvQuery),
    responses(
        (status = 200, description = "The CSV, as an attachment", content_type = "text/csv"),
        (status = 400, description = "A date that is not YYYY-MM-DD, or to before from", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn csv(
    AnyCaller(caller): AnyCaller,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    ApiQuery(query): ApiQuery<CsvQuery>,
) -> Result<Response, HttpError> {
    let caller = caller.admin("exporting tickets needs an admin")?;
    let day = |raw: &Option<String>, name: &str| -> Result<Option<i64>, HttpError> {
        raw.as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| {
                export::day_start(r).ok_or_else(|| {
                    HttpError::BadRequest(format!(
                        "{name} must be a date like 2026-11-28, not {r:?}"
                    ))
                })
            })
            .transpose()
    };
    let from = day(&query.from, "from")?.unwrap_or(i64::MIN);
    // `to` names a day, included: the range ends where the next day starts.
    let to = day(&query.to, "to")?.map_or(i64::MAX, |d| d + 86_400_000);
    if from >= to {
        return Err(HttpError::BadRequest("to is before from".into()));
    }
    let name = format!(
        "tickets-{}-{}.csv",
        query.from.as_deref().unwrap_or("start"),
        query.to.as_deref().unwrap_or("now")
    );
    // Customers' names and emails leave Baton here: on record, who and which range.
    let actor = super::actor(&caller.user, addr);
    let detail = serde_json::json!({"from": query.from, "to": query.to});
    backend::audit::audit(&*services.store, &actor, "tickets.export", detail).await?;
    let store = services.store.clone();
    let header = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(
        backend::csv::line(CSV_HEADER),
    )));
    // Keyset pages by id: each step reads one page, so memory stays flat however
    // many tickets the range holds. A failure mid-way ends the body early, which
    // the client sees as a broken download rather than a silently short file.
    let rows = futures_util::stream::unfold(Some(0_i64), move |after| {
        let store = store.clone();
        async move {
            let after = after?;
            match export::csv_page(&*store, from, to, after, CSV_PAGE).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let last = page.last().map(|r| r.id);
                    let chunk: String =
                        page.iter().map(|r| backend::csv::line(&r.fields)).collect();
                    Some((Ok(chunk), last))
                }
                Err(e) => {
                    tracing::error!(error = %e, "the CSV export failed");
                    Some((Err(std::io::Error::other("the export failed")), None))
                }
            }
        }
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(header, rows));
    Ok(download(body, "text/csv; charset=utf-8", &name).into_response())
}
