//! Search: one box over customers (name, email), ticket titles and descriptions,
//! messages and notes, open and closed tickets alike, with no time window.
//!
//! Each engine keeps its own index (`store::search`). On SQLite, four FTS5 indexes
//! hold the words: customers, tickets and notes are indexed by triggers as they are
//! written; messages, which Botpress writes in a stream, in batches by [`run`] (a
//! segment per batch instead of per commit), and a search first indexes whatever is
//! left, so it never misses a message. On PostgreSQL, GIN indexes follow every
//! write. A query is split into words the way the indexes split text, and every
//! word must match, as a prefix (`refun` finds "refund"). Messages and notes come
//! newest first.

use protocol::search::{HitKind, MAX_QUERY_CHARS, SnippetPart, snippet_parts};
use serde::{Deserialize, Serialize};
use store::Store;
use store::search::{Among, HitRow, MARK_END, MARK_START};
use tokio_util::sync::CancellationToken;

use crate::tickets::Status;
use crate::tickets::export::day_start;
use crate::{Error, Result};

/// More words than this is a paragraph pasted by mistake, not a search.
const MAX_WORDS: usize = 12;
/// Messages and notes per search when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 30;
pub const MAX_LIMIT: i64 = 100;
/// Customers and tickets whose names match come first, a few of each.
const PEOPLE: i64 = 5;
const TICKETS: i64 = 10;
/// Messages indexed per batch: a few milliseconds of the write lock.
const INDEX_BATCH: i64 = 2_000;
/// How often the indexer looks for new messages.
const INDEX_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Indexes up to [`INDEX_BATCH`] messages written since the last batch; returns
/// how many.
pub async fn index_batch(store: &dyn Store) -> Result<i64> {
    // Read first, without the write lock: most calls find nothing to do.
    if !store.autocommit().await?.search_backlog().await? {
        return Ok(0);
    }
    let mut tx = store.write().await?;
    let indexed = tx.search_index(INDEX_BATCH).await?;
    tx.commit().await?;
    Ok(indexed)
}

/// Indexes every message not indexed yet.
pub async fn index_all(store: &dyn Store) -> Result<()> {
    while index_batch(store).await? == INDEX_BATCH {}
    Ok(())
}

/// The indexer: new messages become searchable within a second, however fast
/// they arrive.
pub async fn run(store: std::sync::Arc<dyn Store>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(INDEX_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {
                // A full batch means more are waiting: go on without a pause.
                loop {
                    match index_batch(&*store).await {
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

/// The words of what a person typed, split as the indexes split text: letters and
/// digits make words, anything else splits. Refused when there are none, or too
/// many to be a search.
pub fn words(query: &str) -> Result<Vec<String>> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::Invalid(format!(
            "a search is at most {MAX_QUERY_CHARS} characters; this one has {chars}"
        )));
    }
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
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
    Ok(words)
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
pub use store::search::Filters;

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

fn hit(row: HitRow, kind: HitKind) -> Hit {
    Hit {
        kind,
        ticket: row.ticket,
        ticket_title: row.ticket_title,
        status: row.status,
        customer: row.customer,
        customer_name: row.customer_name,
        message: (kind == HitKind::Message).then_some(row.id),
        note: (kind == HitKind::Note).then_some(row.id),
        author: row.author,
        at: row.at,
        snippet: snippet_parts(&row.snippet, MARK_START, MARK_END),
    }
}

/// Customers and tickets that match (a few of each), then messages and notes,
/// newest first, at most `limit` of those; only tickets `viewer` sees (`routing`).
pub async fn search(
    store: &dyn Store,
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
    let words = words(query)?;
    // What the indexer has not reached yet (at most a second of messages).
    index_all(store).await?;
    let mut tx = store.read().await?;
    let mut find = async |among, most| tx.search(among, &words, filters, viewer, most).await;
    let customers = find(Among::Customers, PEOPLE).await?;
    let tickets = find(Among::Tickets, TICKETS).await?;
    let messages = find(Among::Messages, limit).await?;
    let notes = find(Among::Notes, limit).await?;

    let mut said: Vec<Hit> = messages
        .into_iter()
        .map(|r| hit(r, HitKind::Message))
        .chain(notes.into_iter().map(|r| hit(r, HitKind::Note)))
        .collect();
    said.sort_by_key(|h| std::cmp::Reverse(h.at));
    said.truncate(limit as usize);
    Ok(customers
        .into_iter()
        .map(|r| hit(r, HitKind::Customer))
        .chain(tickets.into_iter().map(|r| hit(r, HitKind::Ticket)))
        .chain(said)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_into_words_like_the_index() {
        assert_eq!(words("refund").unwrap(), ["refund"]);
        assert_eq!(
            words("  dana@example.org ").unwrap(),
            ["dana", "example", "org"]
        );
        // Query syntax is only ever words here.
        assert_eq!(
            words(r#"NOT "x" OR y* (z)"#).unwrap(),
            ["NOT", "x", "OR", "y", "z"]
        );
        assert_eq!(words("Zoë").unwrap(), ["Zoë"]);
    }

    #[test]
    fn empty_long_and_wordy_queries_are_refused_with_a_reason() {
        let msg = |q: &str| match words(q) {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(msg("  ").contains("type a word"));
        assert!(msg("*** !!").contains("type a word"));
        assert!(msg(&"a".repeat(5000)).contains("at most 200 characters; this one has 5000"));
        assert!(msg(&"w ".repeat(13)).contains("at most 12 words"));
    }
}
