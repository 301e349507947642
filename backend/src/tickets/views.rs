//! What agents read: the inbox views (with counts and keyset paging), a ticket with
//! its transcript, and per-agent unread state. Changes live in `commands` and
//! `lifecycle`.
//!
//! Each view first pages through ticket ids on an index of its own, then one query
//! fills in the rows of that page, so a view stays fast however many tickets exist.

use protocol::ticket::{Delivery, Origin, Status};
use serde::Serialize;
use serde_json::Value;
use sqlx::SqlitePool;

use crate::{Error, Result};

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Waiting for an agent, oldest first.
    Queued,
    /// Assigned to the viewer, oldest first.
    Mine,
    /// Assigned to anyone, oldest first.
    Assigned,
    /// Queued or assigned, oldest first.
    Open,
    /// Closed, most recently closed first.
    Closed,
    /// Every ticket, in the order they arrived.
    All,
    /// Tickets with a note that mentions the viewer, latest mention first.
    Mentions,
}

impl View {
    pub fn parse(raw: &str) -> Result<Self> {
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
    db: &SqlitePool,
    view: View,
    viewer: i64,
    label: Option<i64>,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Page> {
    let limit = limit.clamp(1, 200);
    let ids = match label {
        None => page_ids(db, view, viewer, after, limit + 1).await?,
        Some(label) => labelled_ids(db, view, viewer, label, after, limit + 1).await?,
    };
    let more = ids.len() as i64 > limit;
    let ids: Vec<(i64, i64)> = ids.into_iter().take(limit as usize).collect();
    let next = more
        .then(|| ids.last().map(|&(key, id)| Cursor { key, id }.encode()))
        .flatten();
    let order: Vec<i64> = ids.iter().map(|&(_, id)| id).collect();
    let rows = rows_for(db, viewer, &order).await?;
    Ok(Page { rows, next })
}

/// One ticket as a list row, as `viewer` sees it.
pub async fn row(db: &SqlitePool, viewer: i64, ticket: i64) -> Result<Row> {
    rows_for(db, viewer, &[ticket])
        .await?
        .pop()
        .ok_or(Error::NotFound("ticket"))
}

/// The rows of the given tickets, in the given order.
async fn rows_for(db: &SqlitePool, viewer: i64, order: &[i64]) -> Result<Vec<Row>> {
    let json_ids = serde_json::to_string(order)
        .map_err(|e| Error::Internal(format!("cannot encode ids: {e}")))?;
    let mut rows = sqlx::query!(
        r#"select t.id as "id!", t.remote_id, t.title, t.description,
                  t.status as "status: Status", c.name as connection,
                  cu.name as customer_name, cu.email as customer_email,
                  t.assignee_id, u.name as "assignee_name?", u.public_id as "assignee_public_id?",
                  t.created_at, t.closed_at,
                  m.origin as "last_origin?: Origin", m.type as "last_type?",
                  m.payload as "last_payload?", m.created_at as "last_at?",
                  (select count(*) from messages x
                    where x.ticket_id = t.id and x.origin = 'customer'
                      and x.id > coalesce((select r.last_read_message_id from ticket_reads r
                                           where r.user_id = ? and r.ticket_id = t.id), 0)
                  ) as "unread!: i64"
           from tickets t
           join connections c on c.id = t.connection_id
           left join customers cu on cu.id = t.customer_id
           left join users u on u.id = t.assignee_id
           left join messages m on m.id = (select max(id) from messages
                                           where ticket_id = t.id
                                             and origin in ('customer', 'agent', 'system'))
           where t.id in (select value from json_each(?))"#,
        viewer,
        json_ids
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| Row {
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
    })
    .collect::<Vec<_>>();
    rows.sort_by_key(|r| order.iter().position(|&id| id == r.id));
    // The lists are not on the persistence interface yet; labels are, on the same pool.
    let store = store_sqlite::SqliteStore::new(db.clone());
    let mut labels = crate::labels::of_tickets(&store, order).await?;
    for row in &mut rows {
        row.labels = labels.remove(&row.id).unwrap_or_default();
    }
    Ok(rows)
}

/// Runs a page query whose rows are `key` and `id`.
macro_rules! keyed {
    ($db:expr, $query:expr) => {
        $query
            .fetch_all($db)
            .await?
            .into_iter()
            .map(|r| (r.key, r.id))
            .collect()
    };
}

/// The (sort key, id) pairs of one page, one index-backed query per view.
async fn page_ids(
    db: &SqlitePool,
    view: View,
    viewer: i64,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<(i64, i64)>> {
    let ascending = after.unwrap_or(Cursor {
        key: i64::MIN,
        id: i64::MIN,
    });
    let (k, i) = (ascending.key, ascending.id);
    let rows: Vec<(i64, i64)> = match view {
        View::Queued => keyed!(
            db,
            sqlx::query!(
                r#"select created_at as "key!", id as "id!" from tickets
               where status = 'queued' and (created_at, id) > (?, ?)
                 and connection_id in (select connection_id from visible_connections where user_id = ?)
               order by created_at, id limit ?"#,
                k,
                i,
                viewer,
                limit
            )
        ),
        View::Mine => keyed!(
            db,
            sqlx::query!(
                r#"select created_at as "key!", id as "id!" from tickets
               where assignee_id = ? and status = 'assigned' and (created_at, id) > (?, ?)
               order by created_at, id limit ?"#,
                viewer,
                k,
                i,
                limit
            )
        ),
        View::Assigned => keyed!(
            db,
            sqlx::query!(
                r#"select created_at as "key!", id as "id!" from tickets
               where status = 'assigned' and (created_at, id) > (?, ?)
                 and connection_id in (select connection_id from visible_connections where user_id = ?)
               order by created_at, id limit ?"#,
                k,
                i,
                viewer,
                limit
            )
        ),
        View::Open => keyed!(
            db,
            sqlx::query!(
                r#"select created_at as "key!", id as "id!" from tickets
               where status != 'closed' and (created_at, id) > (?, ?)
                 and connection_id in (select connection_id from visible_connections where user_id = ?)
               order by created_at, id limit ?"#,
                k,
                i,
                viewer,
                limit
            )
        ),
        View::All => keyed!(
            db,
            sqlx::query!(
                r#"select id as "key!", id as "id!" from tickets
                   where id > ? and connection_id in (select connection_id from visible_connections where user_id = ?)
                   order by id limit ?"#,
                i,
                viewer,
                limit
            )
        ),
        View::Closed => {
            // Newest first: the cursor bounds from above.
            let before = after.unwrap_or(Cursor {
                key: i64::MAX,
                id: i64::MAX,
            });
            keyed!(
                db,
                sqlx::query!(
                    r#"select closed_at as "key!", id as "id!" from tickets
                       where status = 'closed' and (closed_at, id) < (?, ?)
                         and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by closed_at desc, id desc limit ?"#,
                    before.key,
                    before.id,
                    viewer,
                    limit
                )
            )
        }
        View::Mentions => {
            // Latest mention first: the cursor bounds from above, as for Closed.
            let before = after.unwrap_or(Cursor {
                key: i64::MAX,
                id: i64::MAX,
            });
            keyed!(
                db,
                sqlx::query!(
                    r#"select max(note_id) as "key!: i64", ticket_id as "id!: i64"
                       from note_mentions where user_id = ?
                       group by ticket_id
                       having (max(note_id), ticket_id) < (?, ?)
                       order by 1 desc, 2 desc limit ?"#,
                    viewer,
                    before.key,
                    before.id,
                    limit
                )
            )
        }
    };
    Ok(rows)
}

/// A page of a view, only the tickets that carry `label`: one query for the views
/// in arrival order (their status rule in the `case`), one each for the two that
/// run newest first. Labels are few per ticket, so the label's index narrows first.
async fn labelled_ids(
    db: &SqlitePool,
    view: View,
    viewer: i64,
    label: i64,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<(i64, i64)>> {
    let rule = match view {
        View::Queued => "queued",
        View::Mine => "mine",
        View::Assigned => "assigned",
        View::Open => "open",
        View::All => "all",
        View::Closed => {
            let before = after.unwrap_or(Cursor {
                key: i64::MAX,
                id: i64::MAX,
            });
            return Ok(keyed!(
                db,
                sqlx::query!(
                    r#"select t.closed_at as "key!", t.id as "id!"
                       from ticket_labels tl join tickets t on t.id = tl.ticket_id
                       where tl.label_id = ? and t.status = 'closed'
                         and (t.closed_at, t.id) < (?, ?)
                         and t.connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by t.closed_at desc, t.id desc limit ?"#,
                    label,
                    before.key,
                    before.id,
                    viewer,
                    limit
                )
            ));
        }
        View::Mentions => {
            let before = after.unwrap_or(Cursor {
                key: i64::MAX,
                id: i64::MAX,
            });
            return Ok(keyed!(
                db,
                sqlx::query!(
                    r#"select max(m.note_id) as "key!: i64", m.ticket_id as "id!: i64"
                       from note_mentions m
                       join ticket_labels tl on tl.ticket_id = m.ticket_id and tl.label_id = ?
                       where m.user_id = ?
                       group by m.ticket_id
                       having (max(m.note_id), m.ticket_id) < (?, ?)
                       order by 1 desc, 2 desc limit ?"#,
                    label,
                    viewer,
                    before.key,
                    before.id,
                    limit
                )
            ));
        }
    };
    let start = after.unwrap_or(Cursor {
        key: i64::MIN,
        id: i64::MIN,
    });
    Ok(keyed!(
        db,
        sqlx::query!(
            r#"select t.created_at as "key!", t.id as "id!"
               from ticket_labels tl join tickets t on t.id = tl.ticket_id
               where tl.label_id = ?1
                 and case ?2
                       when 'queued' then t.status = 'queued'
                       when 'mine' then t.status = 'assigned' and t.assignee_id = ?3
                       when 'assigned' then t.status = 'assigned'
                       when 'open' then t.status != 'closed'
                       else 1
                     end
                 and (t.created_at, t.id) > (?4, ?5)
                 and t.connection_id in (select connection_id from visible_connections
                                         where user_id = ?3)
               order by t.created_at, t.id limit ?6"#,
            label,
            rule,
            viewer,
            start.key,
            start.id,
            limit
        )
    ))
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

pub async fn counts(db: &SqlitePool, viewer: i64) -> Result<Counts> {
    let r = sqlx::query!(
        r#"select
             (select count(*) from tickets where status = 'queued'
               and connection_id in (select connection_id from visible_connections
                                     where user_id = ?1)) as "queued!: i64",
             (select count(*) from tickets where assignee_id = ?1 and status = 'assigned') as "mine!: i64",
             (select count(*) from tickets where status in ('queued', 'assigned')
               and connection_id in (select connection_id from visible_connections
                                     where user_id = ?1)) as "open!: i64",
             (select count(*) from tickets where status = 'closed'
               and connection_id in (select connection_id from visible_connections
                                     where user_id = ?1)) as "closed!: i64",
             (select count(distinct ticket_id) from note_mentions
               where user_id = ?1 and seen_at is null) as "mentions!: i64""#,
        viewer
    )
    .fetch_one(db)
    .await?;
    Ok(Counts {
        queued: r.queued,
        mine: r.mine,
        open: r.open,
        closed: r.closed,
        mentions: r.mentions,
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
    db: &SqlitePool,
    viewer: i64,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "select remote_id from tickets where status = 'queued' and created_at < ?
           and connection_id in (select connection_id from visible_connections where user_id = ?)
         order by created_at limit ?",
        cutoff,
        viewer,
        limit
    )
    .fetch_all(db)
    .await?)
}

/// The ticket a Botpress-facing id names (the id Baton returned to Botpress), if
/// `viewer` may see it (`routing`), or holds it (they left the team since): to
/// anyone else it does not exist.
pub async fn find_by_remote_id(db: &SqlitePool, viewer: i64, remote_id: &str) -> Result<i64> {
    let ids = sqlx::query_scalar!(
        r#"select id as "id!" from tickets where remote_id = ?1
             and (assignee_id = ?2
                  or connection_id in (select connection_id from visible_connections
                                       where user_id = ?2))
           limit 2"#,
        remote_id,
        viewer
    )
    .fetch_all(db)
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

/// A message row before its payload is parsed.
struct MessageRow {
    id: i64,
    origin: Origin,
    kind: String,
    payload: String,
    author_name: Option<String>,
    delivery: Option<Delivery>,
    delivery_error: Option<String>,
    at: i64,
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
pub async fn messages(db: &SqlitePool, ticket: i64) -> Result<Vec<Message>> {
    Ok(sqlx::query_as!(
        MessageRow,
        r#"select m.id as "id!", m.origin as "origin: Origin", m.type as kind, m.payload,
                  u.name as "author_name?", m.delivery as "delivery: Delivery", m.delivery_error, coalesce(m.sent_at, m.created_at) as "at!: i64"
           from messages m left join users u on u.id = m.author_id
           where m.ticket_id = ?
           order by (m.origin like 'transcript%') desc,
                    case when m.origin like 'transcript%' then coalesce(m.sent_at, m.created_at) end,
                    m.id"#,
        ticket
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Message::from)
    .collect())
}

/// The last `count` messages of a ticket, in the order of [`messages`], and how many
/// come before them. A long conversation opens at its end, at the cost of `count`
/// messages, however long it is; the page asks for more when the agent scrolls back.
pub async fn latest_messages(
    db: &SqlitePool,
    ticket: i64,
    count: u32,
) -> Result<(Vec<Message>, i64)> {
    // The order of `messages`, reversed, so that `limit` keeps the end.
    let mut latest: Vec<Message> = sqlx::query_as!(
        MessageRow,
        r#"select m.id as "id!", m.origin as "origin: Origin", m.type as kind, m.payload,
                  u.name as "author_name?", m.delivery as "delivery: Delivery", m.delivery_error, coalesce(m.sent_at, m.created_at) as "at!: i64"
           from messages m left join users u on u.id = m.author_id
           where m.ticket_id = ?
           order by (m.origin like 'transcript%') asc,
                    case when m.origin like 'transcript%' then coalesce(m.sent_at, m.created_at) end desc,
                    m.id desc
           limit ?"#,
        ticket,
        count
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Message::from)
    .collect();
    latest.reverse();
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!: i64" from messages where ticket_id = ?"#,
        ticket
    )
    .fetch_one(db)
    .await?;
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
    db: &SqlitePool,
    ticket: i64,
    anchor: Anchor,
) -> Result<Option<i64>> {
    let from_end = match anchor {
        // Counts the messages at or after it in the order of `messages`: the
        // imported transcript (by Botpress's time) before everything else (by id).
        Anchor::Message(id) => {
            sqlx::query_scalar!(
                r#"select count(m.id) as "n!: i64"
                   from messages a join messages m on m.ticket_id = a.ticket_id
                   where a.id = ?1 and a.ticket_id = ?2
                     and case when a.origin like 'transcript%'
                         then m.origin not like 'transcript%'
                              or (coalesce(m.sent_at, m.created_at), m.id)
                                 >= (coalesce(a.sent_at, a.created_at), a.id)
                         else m.origin not like 'transcript%' and m.id >= a.id end
                   group by a.id"#,
                id,
                ticket
            )
            .fetch_optional(db)
            .await?
        }
        // Notes are shown beside the messages of their time.
        Anchor::Note(id) => {
            sqlx::query_scalar!(
                r#"select count(m.id) as "n!: i64"
                   from notes n left join messages m
                     on m.ticket_id = n.ticket_id and m.origin not like 'transcript%'
                        and m.created_at >= n.created_at
                   where n.id = ?1 and n.ticket_id = ?2
                   group by n.id"#,
                id,
                ticket
            )
            .fetch_optional(db)
            .await?
        }
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
