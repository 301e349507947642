//! What agents read: the inbox views (with counts and keyset paging), a ticket with
//! its transcript, and per-agent unread state. Changes live in `commands` and
//! `lifecycle`.
//!
//! Each view first pages through ticket ids on an index of its own, then one query
//! fills in the rows of that page, so a view stays fast however many tickets exist.

use protocol::ticket::{Delivery, Origin, Status};
use serde::Serialize;
use serde_json::Value;
use store::Store;
use store::views::{ListRow, MessageRow};

pub use store::views::View;

use crate::{Error, Result};

/// A view by the name clients use.
pub fn parse_view(raw: &str) -> Result<View> {
    Ok(match raw {
        "queued" => View::Queued,
        "mine" => View::Mine,
        "assigned" => View::Assigned,
        "open" => View::Open,
        "closed" => View::Closed,
        "all" => View::All,
        "mentions" => View::Mentions,
        other => {
            return Err(Error::invalid(format!(
                "unknown view {other:?}: use queued, mine, assigned, open, closed, all or mentions"
            )));
        }
    })
}

/// Where the next page starts: the sort key and id of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: i64,
}

impl Cursor {
    /// The form clients send back: `<key>.<id>`.
    pub fn parse(raw: &str) -> Result<Self> {
        raw.split_once('.')
            .and_then(|(k, i)| Some((k.parse().ok()?, i.parse().ok()?)))
            .map(|(key, id)| Cursor { key, id })
            .ok_or_else(|| Error::invalid(format!("{raw:?} is not a page cursor")))
    }

    pub fn encode(self) -> String {
        format!("{}.{}", self.key, self.id)
    }
}

/// A row of an inbox list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: i64,
    /// The id Botpress knows the ticket by.
    pub remote_id: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub connection: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    /// The assignee's id as Botpress and programs know it (`agt_…`).
    pub assignee_public_id: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// The latest message: who wrote it (`customer`, `agent`, `system`, …) and its text,
    /// shortened, or its type for media.
    pub last_origin: Option<Origin>,
    pub last_preview: Option<String>,
    pub last_at: Option<i64>,
    /// Customer messages the viewer has not read.
    pub unread: i64,
    /// Its labels, by name.
    pub labels: Vec<crate::labels::Label>,
    /// How urgent the bot said it is (Baton's integration); `None`: not said.
    pub priority: Option<protocol::ticket::Priority>,
    /// The team whose queue it is in (Baton's integration), by name.
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub rows: Vec<Row>,
    /// Present when there may be more rows.
    pub next: Option<String>,
}

/// Rows per page, unless the caller asks for fewer.
pub const PAGE: i64 = 50;

/// One page of a view, as `viewer` sees it (unread counts are theirs), only the
/// tickets that carry `label` if one is given.
pub async fn list(
    store: &dyn Store,
    view: View,
    viewer: i64,
    label: Option<i64>,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Page> {
    let limit = limit.clamp(1, 200);
    // The first page of a newest-first view starts above everything.
    let bound = match (after, view.descending()) {
        (Some(c), _) => (c.key, c.id),
        (None, true) => (i64::MAX, i64::MAX),
        (None, false) => (i64::MIN, i64::MIN),
    };
    // One snapshot, so that the rows are those of the page's ids.
    let mut tx = store.read().await?;
    let ids = tx.view_page(view, viewer, label, bound, limit + 1).await?;
    let more = ids.len() as i64 > limit;
    let ids: Vec<(i64, i64)> = ids.into_iter().take(limit as usize).collect();
    let next = more
        .then(|| ids.last().map(|&(key, id)| Cursor { key, id }.encode()))
        .flatten();
    let order: Vec<i64> = ids.iter().map(|&(_, id)| id).collect();
    let rows = rows_for(&mut *tx, viewer, &order).await?;
    Ok(Page { rows, next })
}

/// One ticket as a list row, as `viewer` sees it.
pub async fn row(store: &dyn Store, viewer: i64, ticket: i64) -> Result<Row> {
    row_in(&mut *store.read().await?, viewer, ticket).await
}

/// [`row`], inside a caller's transaction.
pub async fn row_in(tx: &mut dyn store::Tx, viewer: i64, ticket: i64) -> Result<Row> {
    rows_for(tx, viewer, &[ticket])
        .await?
        .pop()
        .ok_or(Error::NotFound("ticket"))
}

/// The rows of the given tickets, in the given order.
async fn rows_for(tx: &mut dyn store::Tx, viewer: i64, order: &[i64]) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = tx
        .view_rows(viewer, order)
        .await?
        .into_iter()
        .map(Row::from)
        .collect();
    rows.sort_by_key(|r| order.iter().position(|&id| id == r.id));
    let mut labels = crate::labels::of_tickets_in(tx, order).await?;
    for row in &mut rows {
        row.labels = labels.remove(&row.id).unwrap_or_default();
    }
    Ok(rows)
}

impl From<ListRow> for Row {
    fn from(r: ListRow) -> Self {
        Row {
            last_preview: r
                .last_type
                .as_deref()
                .map(|kind| preview(kind, r.last_payload.as_deref().unwrap_or("{}"))),
            id: r.id,
            remote_id: r.remote_id,
            title: r.title,
            description: r.description,
            status: r.status,
            connection: r.connection,
            customer_name: r.customer_name,
            customer_email: r.customer_email,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            assignee_public_id: r.assignee_public_id,
            created_at: r.created_at,
            closed_at: r.closed_at,
            last_origin: r.last_origin,
            last_at: r.last_at,
            unread: r.unread,
            labels: Vec::new(),
            priority: r.priority,
            team: r.team,
        }
    }
}

/// How many tickets each view holds, for the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub queued: i64,
    pub mine: i64,
    pub open: i64,
    pub closed: i64,
    /// Tickets with a note that mentions the viewer and that they have not opened
    /// since.
    pub mentions: i64,
}

pub async fn counts(store: &dyn Store, viewer: i64) -> Result<Counts> {
    let c = store.autocommit().await?.view_counts(viewer).await?;
    Ok(Counts {
        queued: c.queued,
        mine: c.mine,
        open: c.open,
        closed: c.closed,
        mentions: c.mentions,
    })
}

/// A short, plain-text stand-in for a message in lists.
pub fn preview(kind: &str, payload: &str) -> String {
    const MAX: usize = 140;
    let value: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let text = match kind {
        "text" | "markdown" => value
            .get("text")
            .or_else(|| value.get("markdown"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    match text {
        Some(t) => {
            let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() > MAX {
                let cut: String = flat.chars().take(MAX - 1).collect();
                format!("{cut}…")
            } else {
                flat
            }
        }
        None => format!("[{kind}]"),
    }
}

/// Queued tickets that arrived before `cutoff`, oldest first: those waiting too long,
/// among those `viewer` sees.
pub async fn queued_before(
    store: &dyn Store,
    viewer: i64,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(store
        .autocommit()
        .await?
        .queued_before(viewer, cutoff, limit)
        .await?)
}

/// The ticket a Botpress-facing id names (the id Baton returned to Botpress), if
/// `viewer` may see it (`routing`), or holds it (they left the team since): to
/// anyone else it does not exist.
pub async fn find_by_remote_id(store: &dyn Store, viewer: i64, remote_id: &str) -> Result<i64> {
    let ids = store
        .autocommit()
        .await?
        .tickets_by_remote_id(viewer, remote_id)
        .await?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound("ticket")),
        _ => Err(Error::Conflict(format!(
            "{remote_id:?} names tickets on more than one connection"
        ))),
    }
}

/// A message of a ticket, as agents read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    /// `customer`, `agent`, `system`, `transcript_customer` or `transcript_bot`.
    pub origin: Origin,
    #[serde(rename = "type")]
    pub kind: String,
    /// Exactly as Botpress sent it (or as the agent composed it).
    pub payload: Value,
    pub author_name: Option<String>,
    /// Agent messages: `pending`, `sent` or `failed`.
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    /// When it was said: Botpress's time for the imported transcript, ours otherwise.
    pub at: i64,
    /// Markdown messages: the text rendered to sanitised HTML.
    pub html: Option<String>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let payload: Value = serde_json::from_str(&r.payload).unwrap_or(Value::Null);
        let html = (r.kind == "markdown")
            .then(|| payload.get("markdown").and_then(Value::as_str))
            .flatten()
            .map(crate::markdown::to_html);
        Message {
            id: r.id,
            origin: r.origin,
            kind: r.kind,
            payload,
            html,
            author_name: r.author_name,
            delivery: r.delivery,
            delivery_error: r.delivery_error,
            at: r.at,
        }
    }
}

/// Every message of a ticket: the imported bot transcript first, then the handoff.
pub async fn messages(store: &dyn Store, ticket: i64) -> Result<Vec<Message>> {
    messages_in(&mut *store.autocommit().await?, ticket).await
}

/// [`messages`], inside a caller's transaction.
pub async fn messages_in(tx: &mut dyn store::Tx, ticket: i64) -> Result<Vec<Message>> {
    Ok(tx
        .ticket_messages(ticket)
        .await?
        .into_iter()
        .map(Message::from)
        .collect())
}

/// The last `count` messages of a ticket, in the order of [`messages`], and how many
/// come before them. A long conversation opens at its end, at the cost of `count`
/// messages, however long it is; the page asks for more when the agent scrolls back.
pub async fn latest_messages(
    store: &dyn Store,
    ticket: i64,
    count: u32,
) -> Result<(Vec<Message>, i64)> {
    let mut tx = store.read().await?;
    let mut latest: Vec<Message> = tx
        .ticket_latest_messages(ticket, i64::from(count))
        .await?
        .into_iter()
        .map(Message::from)
        .collect();
    latest.reverse();
    let total = tx.ticket_message_count(ticket).await?;
    let earlier = (total - latest.len() as i64).max(0);
    Ok((latest, earlier))
}

/// Where a conversation opens when not at its end: the message or note a search
/// hit names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Message(i64),
    Note(i64),
}

/// Messages shown before the anchor, so that it is read in context.
const ANCHOR_CONTEXT: i64 = 3;

/// How many of a ticket's latest messages to load so that `anchor` is among them
/// (see [`latest_messages`]); `None` when the anchor is not in this ticket.
pub async fn messages_to_reach(
    store: &dyn Store,
    ticket: i64,
    anchor: Anchor,
) -> Result<Option<i64>> {
    let mut tx = store.autocommit().await?;
    let from_end = match anchor {
        // The messages at or after it in the order of `messages`.
        Anchor::Message(id) => tx.messages_from_message(ticket, id).await?,
        // Notes are shown beside the messages of their time.
        Anchor::Note(id) => tx.messages_from_note(ticket, id).await?,
    };
    Ok(from_end.map(|n| n + ANCHOR_CONTEXT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            key: 1_700_000_000_000,
            id: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        assert!(Cursor::parse("42").is_err());
        assert!(Cursor::parse("a.b").is_err());
    }

    #[test]
    fn previews_are_short_plain_text() {
        assert_eq!(
            preview("text", r#"{"text":"Hello\n  there"}"#),
            "Hello there"
        );
        assert_eq!(
            preview("image", r#"{"imageUrl":"https://x/y.png"}"#),
            "[image]"
        );
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(500));
        assert_eq!(preview("text", &long).chars().count(), 140);
    }
}
