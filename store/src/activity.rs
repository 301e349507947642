//! What people did to a ticket, written in the transaction of the change.

/// One activity line to write. `action` is one of the names the schema allows
/// (`took`, `labelled`, …).
#[derive(Debug, Clone)]
pub struct NewLine<'a> {
    pub ticket: i64,
    pub actor: Option<i64>,
    pub action: &'a str,
    pub other: Option<i64>,
    pub detail: Option<&'a str>,
    pub at: i64,
}

/// A stored line, with the names of the people it involves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub action: String,
    pub at: i64,
    pub detail: Option<String>,
    pub actor: Option<String>,
    pub other: Option<String>,
}

#[async_trait::async_trait]
pub trait Activity {
    async fn activity_insert(&mut self, line: &NewLine<'_>) -> crate::Result<()>;

    /// The ticket's lines from `since` on, oldest first, with who acted and on whom.
    async fn activity_since(&mut self, ticket: i64, since: i64) -> crate::Result<Vec<LineRow>>;
}
