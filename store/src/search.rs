//! Search: one box over customers, tickets, messages and notes. Each engine keeps
//! its own text index (SQLite's FTS5 tables, PostgreSQL's GIN indexes) and splits and
//! folds words alike: punctuation splits, case and accents fold, and every word of a
//! query must match as a prefix.

use protocol::ticket::Status;

/// Where a snippet's match starts and ends (private-use characters nobody types).
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

/// Snippets are about this many words around the match.
pub const SNIPPET_WORDS: i64 = 16;

/// Filters on the ticket a hit belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<Status>,
    pub label: Option<i64>,
    pub agent: Option<i64>,
    pub connection: Option<i64>,
    pub from: Option<i64>,
    /// Exclusive.
    pub until: Option<i64>,
}

/// One thing that matched, with its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitRow {
    /// The customer's, ticket's, message's or note's id.
    pub id: i64,
    pub ticket: String,
    pub ticket_title: String,
    pub status: Status,
    pub customer: Option<String>,
    pub customer_name: Option<String>,
    pub author: Option<String>,
    pub at: i64,
    /// Words around the match, the matches between [`MARK_START`] and [`MARK_END`].
    pub snippet: String,
}

/// What a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among {
    /// Customers by name and email, each with their latest ticket the filters let
    /// through.
    Customers,
    /// Tickets by title and description.
    Tickets,
    Messages,
    Notes,
}

#[async_trait::async_trait]
pub trait Search {
    /// Whether messages are waiting to be indexed (SQLite indexes them in batches,
    /// off the Botpress path; PostgreSQL as they are written, so never).
    async fn search_backlog(&mut self) -> crate::Result<bool>;

    /// Indexes up to `most` waiting messages; returns how many.
    async fn search_index(&mut self, most: i64) -> crate::Result<i64>;

    /// The newest matches among what the viewer sees, at most `most`. `words` are
    /// letters and digits only.
    async fn search(
        &mut self,
        among: Among,
        words: &[String],
        filters: &Filters,
        viewer: i64,
        most: i64,
    ) -> crate::Result<Vec<HitRow>>;
}
