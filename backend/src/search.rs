//! Search: one box over customers (name, email), ticket titles and descriptions,
//! messages and notes, open and closed tickets alike, with no time window.
//!
//! Four SQLite FTS5 indexes (the search migrations) hold the words. Customers,
//! tickets and notes are indexed by triggers as they are written; messages, which
//! Botpress writes in a stream, in batches by [`run`] (a segment per batch instead
//! of per commit), and a search first indexes whatever is left, so it never misses
//! a message. A query is split into words the way the indexes
//! split text, and every word must match, as a prefix (`refun` finds "refund").
//! Messages and notes come newest first: FTS5 walks its index in that order and
//! stops after a page, so a common word costs no more than a rare one.

use protocol::search::{HitKind, MAX_QUERY_CHARS, SnippetPart, snippet_parts};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use tokio_util::sync::CancellationToken;

use crate::tickets::Status;
use crate::tickets::export::day_start;
use crate::{Error, Result, db};

/// More words than this is a paragraph pasted by mistake, not a search.
const MAX_WORDS: usize = 12;
/// Messages and notes per search when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 30;
pub const MAX_LIMIT: i64 = 100;
/// Customers and tickets whose names match come first, a few of each.
const PEOPLE: i64 = 5;
const TICKETS: i64 = 10;
/// Snippets are this many words around the match.
const SNIPPET_WORDS: i64 = 16;

/// FTS5 wraps matches in these (private-use characters nobody types), and
/// `snippet_parts` splits on them.
const MARK_START: char = '\u{E000}';
const MARK_END: char = '\u{E001}';

/// Messages indexed per batch: a few milliseconds of the write lock.
const INDEX_BATCH: i64 = 2_000;
/// How often the indexer looks for new messages.
const INDEX_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Indexes up to [`INDEX_BATCH`] messages written since the last batch; returns
/// how many.
pub async fn index_batch(pool: &SqlitePool) -> Result<i64> {
    // Read first, without the lock: most calls find nothing to do.
    let (done, newest) = sqlx::query!(
        r#"select p.last_message_id as "done!: i64",
                  (select max(id) from messages) as "newest?: i64"
           from search_progress p where p.id = 1"#
    )
    .fetch_one(pool)
    .await
    .map(|r| (r.done, r.newest.unwrap_or(0)))?;
    if newest <= done {
        return Ok(0);
    }
    let mut tx = db::begin_write(pool).await?;
    let done = sqlx::query_scalar!("select last_message_id from search_progress where id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let until = sqlx::query_scalar!(
        r#"select max(id) as "until: i64" from
           (select id from messages where id > ? order by id limit ?)"#,
        done,
        INDEX_BATCH
    )
    .fetch_one(&mut *tx)
    .await?;
    let Some(until) = until else {
        return Ok(0);
    };
    let indexed = sqlx::query!(
        "insert into search_messages (rowid, body)
         select id, body from message_search_text where id > ? and id <= ?",
        done,
        until
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        "update search_progress set last_message_id = ? where id = 1",
        until
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(indexed as i64)
}

/// Indexes every message not indexed yet.
pub async fn index_all(pool: &SqlitePool) -> Result<()> {
    while index_batch(pool).await? == INDEX_BATCH {}
    Ok(())
}

/// The indexer: new messages become searchable within a second, however fast
/// they arrive.
pub async fn run(pool: SqlitePool, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(INDEX_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {
                // A full batch means more are waiting: go on without a pause.
                loop {
                    match index_batch(&pool).await {
                        Ok(n) if n == INDEX_BATCH && !cancel.is_cancelled() => {}
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "search indexing failed; retrying");
                            break;
                        }
                    }
                }
            }
        }
    }
}

/// The FTS5 expression for what a person typed: each word quoted (so nothing in it
/// is FTS5 syntax) and a prefix; all of them must match.
pub fn match_expression(query: &str) -> Result<String> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::Invalid(format!(
            "a search is at most {MAX_QUERY_CHARS} characters; this one has {chars}"
        )));
    }
    // The tokenizer's rule: letters and digits make words, anything else splits.
    let words: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(Error::Invalid(
            "type a word, a name or an email to search for".into(),
        ));
    }
    if words.len() > MAX_WORDS {
        return Err(Error::Invalid(format!(
            "a search is at most {MAX_WORDS} words; this one has {}",
            words.len()
        )));
    }
    Ok(words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// Filters as they arrive in a URL or a form: text, where empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawFilters {
    pub status: Option<String>,
    pub label: Option<String>,
    /// An agent's public id (`agt_…`): tickets they hold.
    pub agent: Option<String>,
    pub connection: Option<String>,
    /// `YYYY-MM-DD` (UTC): tickets created on or after that day.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (UTC): tickets created on or before that day.
    pub to: Option<String>,
}

/// Filters on the ticket a hit belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<Status>,
    pub label: Option<i64>,
    pub agent: Option<i64>,
    pub connection: Option<i64>,
    pub from: Option<i64>,
    /// Exclusive: the start of the day after `to`.
    pub until: Option<i64>,
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|r| !r.is_empty())
}

fn id(raw: &Option<String>, what: &str) -> Result<Option<i64>> {
    given(raw)
        .map(|r| {
            r.parse::<i64>()
                .map_err(|_| Error::Invalid(format!("{what} must be a number, not {r:?}")))
        })
        .transpose()
}

fn day(raw: &Option<String>, what: &str) -> Result<Option<i64>> {
    given(raw)
        .map(|r| {
            day_start(r).ok_or_else(|| {
                Error::Invalid(format!("{what} must be a date like 2026-11-28, not {r:?}"))
            })
        })
        .transpose()
}

impl RawFilters {
    /// Checks each filter and turns names into ids; an unknown agent is an error
    /// (a typo should not look like "no results").
    pub async fn resolve(&self, store: &dyn store::Store) -> Result<Filters> {
        let status = given(&self.status)
            .map(|s| {
                s.parse::<Status>()
                    .map_err(|e| Error::Invalid(e.to_string()))
            })
            .transpose()?;
        let agent = match given(&self.agent) {
            Some(public_id) => Some(
                crate::users::find_by_public_id(store, public_id)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound(_) => Error::Invalid(format!("no agent {public_id:?}")),
                        other => other,
                    })?
                    .id,
            ),
            None => None,
        };
        let from = day(&self.from, "from")?;
        let until = day(&self.to, "to")?.map(|d| d + 86_400_000);
        if let (Some(from), Some(until)) = (from, until)
            && from >= until
        {
            return Err(Error::Invalid("to is before from".into()));
        }
        Ok(Filters {
            status,
            label: id(&self.label, "label")?,
            agent,
            connection: id(&self.connection, "connection")?,
            from,
            until,
        })
    }
}

/// One thing that matched, and the ticket to open for it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub kind: HitKind,
    /// The ticket, by the id Botpress knows it by. For a customer, their latest
    /// ticket (among those the filters let through).
    pub ticket: String,
    pub ticket_title: String,
    pub status: Status,
    /// The customer's public id (`cus_…`) and name, when the ticket has one.
    pub customer: Option<String>,
    pub customer_name: Option<String>,
    /// The message or note to open the conversation at.
    pub message: Option<i64>,
    pub note: Option<i64>,
    /// Who wrote the note, or the agent who wrote the message.
    pub author: Option<String>,
    /// When it was said (messages, notes) or created (tickets, customers).
    pub at: i64,
    pub snippet: Vec<SnippetPart>,
}

struct HitRow {
    id: i64,
    ticket: String,
    ticket_title: String,
    status: Status,
    customer: Option<String>,
    customer_name: Option<String>,
    author: Option<String>,
    at: i64,
    snippet: String,
}

impl HitRow {
    fn into_hit(self, kind: HitKind) -> Hit {
        Hit {
            kind,
            ticket: self.ticket,
            ticket_title: self.ticket_title,
            status: self.status,
            customer: self.customer,
            customer_name: self.customer_name,
            message: (kind == HitKind::Message).then_some(self.id),
            note: (kind == HitKind::Note).then_some(self.id),
            author: self.author,
            at: self.at,
            snippet: snippet_parts(&self.snippet, MARK_START, MARK_END),
        }
    }
}

/// Customers and tickets that match (a few of each), then messages and notes,
/// newest first, at most `limit` of those; only tickets `viewer` sees (`routing`).
pub async fn search(
    db: &SqlitePool,
    viewer: i64,
    query: &str,
    filters: &Filters,
    limit: i64,
) -> Result<Vec<Hit>> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::Invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let expression = match_expression(query)?;
    // What the indexer has not reached yet (at most a second of messages).
    index_all(db).await?;
    let (start, end) = (MARK_START.to_string(), MARK_END.to_string());
    let status = filters.status.map(Status::as_str);
    let f = filters;
    // Each query repeats the same ticket filters (`t`): sqlx checks whole
    // statements, so they cannot be shared as a fragment.
    let customers = sqlx::query_as!(
        HitRow,
        r#"select c.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                  t.status as "status: Status", c.public_id as "customer?",
                  c.name as "customer_name?", null as "author?: String",
                  c.created_at as at,
                  snippet(search_customers, -1, ?2, ?3, '…', ?4) as "snippet!: String"
           from search_customers s
           join customers c on c.id = s.rowid
           join tickets t on t.id = (
               select t2.id from tickets t2
               where t2.customer_id = c.id
                 and (?5 is null or t2.status = ?5)
                 and (?6 is null or exists (select 1 from ticket_labels l
                                            where l.ticket_id = t2.id and l.label_id = ?6))
                 and (?7 is null or t2.assignee_id = ?7)
                 and (?8 is null or t2.connection_id = ?8)
                 and (?9 is null or t2.created_at >= ?9)
                 and (?10 is null or t2.created_at < ?10)
                 and t2.connection_id in (select connection_id from visible_connections
                                          where user_id = ?12)
               order by t2.created_at desc limit 1)
           where search_customers match ?1
           order by s.rowid desc limit ?11"#,
        expression,
        start,
        end,
        SNIPPET_WORDS,
        status,
        f.label,
        f.agent,
        f.connection,
        f.from,
        f.until,
        PEOPLE,
        viewer
    )
    .fetch_all(db)
    .await?;
    let tickets = sqlx::query_as!(
        HitRow,
        r#"select t.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                  t.status as "status: Status", c.public_id as "customer?",
                  c.name as "customer_name?", null as "author?: String",
                  t.created_at as at,
                  snippet(search_tickets, -1, ?2, ?3, '…', ?4) as "snippet!: String"
           from search_tickets s
           join tickets t on t.id = s.rowid
           left join customers c on c.id = t.customer_id
           where search_tickets match ?1
             and (?5 is null or t.status = ?5)
             and (?6 is null or exists (select 1 from ticket_labels l
                                        where l.ticket_id = t.id and l.label_id = ?6))
             and (?7 is null or t.assignee_id = ?7)
             and (?8 is null or t.connection_id = ?8)
             and (?9 is null or t.created_at >= ?9)
             and (?10 is null or t.created_at < ?10)
             and t.connection_id in (select connection_id from visible_connections
                                     where user_id = ?12)
           order by s.rowid desc limit ?11"#,
        expression,
        start,
        end,
        SNIPPET_WORDS,
        status,
        f.label,
        f.agent,
        f.connection,
        f.from,
        f.until,
        TICKETS,
        viewer
    )
    .fetch_all(db)
    .await?;
    let messages = sqlx::query_as!(
        HitRow,
        r#"select m.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                  t.status as "status: Status", c.public_id as "customer?",
                  c.name as "customer_name?", u.name as "author?",
                  coalesce(m.sent_at, m.created_at) as "at!: i64",
                  snippet(search_messages, 0, ?2, ?3, '…', ?4) as "snippet!: String"
           from search_messages s
           join messages m on m.id = s.rowid
           join tickets t on t.id = m.ticket_id
           left join customers c on c.id = t.customer_id
           left join users u on u.id = m.author_id
           where search_messages match ?1
             and (?5 is null or t.status = ?5)
             and (?6 is null or exists (select 1 from ticket_labels l
                                        where l.ticket_id = t.id and l.label_id = ?6))
             and (?7 is null or t.assignee_id = ?7)
             and (?8 is null or t.connection_id = ?8)
             and (?9 is null or t.created_at >= ?9)
             and (?10 is null or t.created_at < ?10)
             and t.connection_id in (select connection_id from visible_connections
                                     where user_id = ?12)
           order by s.rowid desc limit ?11"#,
        expression,
        start,
        end,
        SNIPPET_WORDS,
        status,
        f.label,
        f.agent,
        f.connection,
        f.from,
        f.until,
        limit,
        viewer
    )
    .fetch_all(db)
    .await?;
    let notes = sqlx::query_as!(
        HitRow,
        r#"select n.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                  t.status as "status: Status", c.public_id as "customer?",
                  c.name as "customer_name?", u.name as "author?",
                  n.created_at as at,
                  snippet(search_notes, 0, ?2, ?3, '…', ?4) as "snippet!: String"
           from search_notes s
           join notes n on n.id = s.rowid
           join tickets t on t.id = n.ticket_id
           left join customers c on c.id = t.customer_id
           left join users u on u.id = n.author_id
           where search_notes match ?1
             and (?5 is null or t.status = ?5)
             and (?6 is null or exists (select 1 from ticket_labels l
                                        where l.ticket_id = t.id and l.label_id = ?6))
             and (?7 is null or t.assignee_id = ?7)
             and (?8 is null or t.connection_id = ?8)
             and (?9 is null or t.created_at >= ?9)
             and (?10 is null or t.created_at < ?10)
             and t.connection_id in (select connection_id from visible_connections
                                     where user_id = ?12)
           order by s.rowid desc limit ?11"#,
        expression,
        start,
        end,
        SNIPPET_WORDS,
        status,
        f.label,
        f.agent,
        f.connection,
        f.from,
        f.until,
        limit,
        viewer
    )
    .fetch_all(db)
    .await?;

    let mut said: Vec<Hit> = messages
        .into_iter()
        .map(|r| r.into_hit(HitKind::Message))
        .chain(notes.into_iter().map(|r| r.into_hit(HitKind::Note)))
        .collect();
    said.sort_by_key(|h| std::cmp::Reverse(h.at));
    said.truncate(limit as usize);
    Ok(customers
        .into_iter()
        .map(|r| r.into_hit(HitKind::Customer))
        .chain(tickets.into_iter().map(|r| r.into_hit(HitKind::Ticket)))
        .chain(said)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_prefixes_split_like_the_index() {
        assert_eq!(match_expression("refund").unwrap(), r#""refund"*"#);
        assert_eq!(
            match_expression("  dana@example.org ").unwrap(),
            r#""dana"* "example"* "org"*"#
        );
        // FTS5 syntax is only ever words here.
        assert_eq!(
            match_expression(r#"NOT "x" OR y* (z)"#).unwrap(),
            r#""NOT"* "x"* "OR"* "y"* "z"*"#
        );
        assert_eq!(match_expression("Zoë").unwrap(), r#""Zoë"*"#);
    }

    #[test]
    fn empty_long_and_wordy_queries_are_refused_with_a_reason() {
        let msg = |q: &str| match match_expression(q) {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(msg("  ").contains("type a word"));
        assert!(msg("*** !!").contains("type a word"));
        assert!(msg(&"a".repeat(5000)).contains("at most 200 characters; this one has 5000"));
        assert!(msg(&"w ".repeat(13)).contains("at most 12 words"));
    }
}
