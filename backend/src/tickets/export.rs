//! Exports: one conversation as a readable transcript (plain text) or as JSON, and
//! the tickets of a date range as CSV rows for admins.
//!
//! The text transcript is what a person forwards or files: the ticket's facts, then
//! every message with its time (UTC), its author and its content in words. Private
//! notes are colleagues' talk and stay out of it; the JSON export has them, marked.
//! The CSV is written a page at a time by the caller (see `server`), so a year of
//! tickets is never held in memory.

use protocol::ticket::{ClosedReason, Origin, Status};
use serde::Serialize;
use serde_json::Value;
use store::Store;

use super::notes::{self, Note};
use super::views::{self, Message, Row};
use crate::{Error, Result};

/// `ms` (UTC milliseconds since the Unix epoch) as `2026-11-28 21:42 UTC`.
pub fn utc_minute(ms: i64) -> String {
    let (date, minutes) = (
        ms.div_euclid(86_400_000),
        ms.rem_euclid(86_400_000) / 60_000,
    );
    let (y, m, d) = civil(date);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// `ms` as RFC 3339 in UTC, to the second: `2026-11-28T21:42:05Z`.
pub fn rfc3339(ms: i64) -> String {
    let (date, seconds) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (y, m, d) = civil(date);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The first millisecond of a `YYYY-MM-DD` day (UTC), or `None` for anything else.
pub fn day_start(raw: &str) -> Option<i64> {
    let mut parts = raw.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 2026-02-31 would roll over into March: refuse it.
    (civil(days) == (y, m, d)).then_some(days * 86_400_000)
}

/// Year, month, day of a day number (days since 1970-01-01); Howard Hinnant's
/// `civil_from_days`.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The day number of a date; Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A message's content in words: its text, or what it is and where it points.
pub fn message_text(kind: &str, payload: &Value) -> String {
    let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or("");
    let titled = |what: &str, url: &str| {
        let title = field("title");
        match (title.is_empty(), url.is_empty()) {
            (true, true) => format!("[{what}]"),
            (true, false) => format!("[{what}] {url}"),
            (false, true) => format!("[{what}] {title}"),
            (false, false) => format!("[{what}] {title} {url}"),
        }
    };
    match kind {
        "text" => field("text").to_owned(),
        "markdown" => field("markdown").to_owned(),
        "image" => titled("image", field("imageUrl")),
        "audio" => titled("audio", field("audioUrl")),
        "video" => titled("video", field("videoUrl")),
        "file" => titled("file", field("fileUrl")),
        "location" => {
            let (lat, lon) = (
                payload
                    .get("latitude")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                payload
                    .get("longitude")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            );
            let place = [field("title"), field("address")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            format!("[location] {place} ({lat}, {lon})").replace("]  (", "] (")
        }
        "choice" | "dropdown" => {
            let options: Vec<&str> = payload
                .get("options")
                .and_then(Value::as_array)
                .map(|o| o.iter().filter_map(|o| o.get("label")?.as_str()).collect())
                .unwrap_or_default();
            format!("{} [choices: {}]", field("text"), options.join(" | "))
        }
        _ => format!("[{kind}] {}", views::preview(kind, &payload.to_string())),
    }
}

/// Who wrote a message, for the transcript.
fn author(m: &Message, customer: &str) -> String {
    match m.origin {
        Origin::Customer => format!("{customer} (customer)"),
        Origin::Agent => format!("{} (agent)", m.author_name.as_deref().unwrap_or("Agent")),
        Origin::System => "Botpress".to_owned(),
        Origin::TranscriptCustomer => format!("{customer} (to the bot)"),
        Origin::TranscriptBot => "Bot".to_owned(),
    }
}

/// One conversation, with everything an export needs.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub ticket: Row,
    pub closed_reason: Option<ClosedReason>,
    pub messages: Vec<Message>,
    /// Private notes: only in the JSON export.
    pub notes: Vec<Note>,
}

pub async fn transcript(store: &dyn Store, viewer: i64, ticket: i64) -> Result<Transcript> {
    let mut tx = store.read().await?;
    let row = views::row_in(&mut *tx, viewer, ticket).await?;
    let closed_reason = tx
        .ticket_get(ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?
        .closed_reason;
    Ok(Transcript {
        ticket: row,
        closed_reason,
        messages: views::messages_in(&mut *tx, ticket).await?,
        notes: notes::all_in(&mut *tx, ticket).await?,
    })
}

impl Transcript {
    /// The readable transcript, without private notes.
    pub fn text(&self) -> String {
        let t = &self.ticket;
        let customer = t
            .customer_name
            .clone()
            .or_else(|| t.customer_email.clone())
            .unwrap_or_else(|| "Customer".to_owned());
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!("Conversation: {}", t.title));
        line(format!("Ticket: {} (bot: {})", t.remote_id, t.connection));
        line(match (&t.customer_name, &t.customer_email) {
            (Some(n), Some(e)) => format!("Customer: {n} <{e}>"),
            (Some(n), None) => format!("Customer: {n}"),
            (None, Some(e)) => format!("Customer: {e}"),
            (None, None) => "Customer: unknown".to_owned(),
        });
        line(format!("Opened: {}", utc_minute(t.created_at)));
        line(match (t.status, t.closed_at) {
            (Status::Closed, Some(at)) => format!(
                "Closed: {}{}",
                utc_minute(at),
                self.closed_reason
                    .map(|r| format!(" ({})", r.as_str().replace('_', " ")))
                    .unwrap_or_default()
            ),
            _ => format!("Status: {}", t.status.as_str()),
        });
        if !t.labels.is_empty() {
            let names: Vec<&str> = t.labels.iter().map(|l| l.name.as_str()).collect();
            line(format!("Labels: {}", names.join(", ")));
        }
        line(String::new());
        for m in &self.messages {
            line(format!(
                "[{}] {}: {}",
                utc_minute(m.at),
                author(m, &customer),
                message_text(&m.kind, &m.payload)
            ));
        }
        out
    }
}

/// A ticket as a row of the admins' CSV export.
#[derive(Debug, Clone)]
pub struct CsvRow {
    pub id: i64,
    pub fields: Vec<String>,
}

/// The CSV header, in the order of [`CsvRow::fields`].
pub const CSV_HEADER: &[&str] = &[
    "ticket",
    "status",
    "title",
    "bot",
    "customer_name",
    "customer_email",
    "agent",
    "created_at",
    "closed_at",
    "closed_reason",
    "messages",
    "labels",
];

/// Up to `limit` tickets created in `[from, to)` (ms) with an id above `after`, oldest
/// id first: one page of the CSV export.
pub async fn csv_page(
    store: &dyn Store,
    from: i64,
    to: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<CsvRow>> {
    let rows = store
        .autocommit()
        .await?
        .export_rows(from, to, after, limit)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| CsvRow {
            id: r.id,
            fields: vec![
                r.remote_id,
                r.status.as_str().to_owned(),
                r.title,
                r.bot,
                r.customer_name.unwrap_or_default(),
                r.customer_email.unwrap_or_default(),
                r.agent.unwrap_or_default(),
                rfc3339(r.created_at),
                r.closed_at.map(rfc3339).unwrap_or_default(),
                r.closed_reason
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
                r.messages.to_string(),
                r.labels.unwrap_or_default(),
            ],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(rfc3339(1_795_902_125_000), "2026-11-28T21:42:05Z");
        assert_eq!(utc_minute(1_795_902_125_000), "2026-11-28 21:42 UTC");
        let day = day_start("2026-11-28").unwrap();
        assert_eq!(rfc3339(day), "2026-11-28T00:00:00Z");
        assert_eq!(
            rfc3339(day_start("2024-02-29").unwrap()),
            "2024-02-29T00:00:00Z"
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "28/11/2026",
            "",
            "2026-11",
            "1900-01-01",
        ] {
            assert_eq!(day_start(bad), None, "{bad}");
        }
    }

    #[test]
    fn messages_read_as_words() {
        assert_eq!(message_text("text", &json!({"text": "Hello"})), "Hello");
        assert_eq!(
            message_text("image", &json!({"imageUrl": "https://x/a.png"})),
            "[image] https://x/a.png"
        );
        assert_eq!(
            message_text(
                "file",
                &json!({"fileUrl": "https://x/f.pdf", "title": "Invoice"})
            ),
            "[file] Invoice https://x/f.pdf"
        );
        assert_eq!(
            message_text(
                "choice",
                &json!({"text": "Pick", "options": [{"label": "Yes", "value": "y"}, {"label": "No", "value": "n"}]})
            ),
            "Pick [choices: Yes | No]"
        );
    }
}
