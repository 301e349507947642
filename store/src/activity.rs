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

#[async_trait::async_trait]
pub trait Activity {
    async fn activity_insert(&mut self, line: &NewLine<'_>) -> crate::Result<()>;
}
