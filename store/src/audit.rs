//! The audit log: who changed what, written in the transaction of the change.

/// One entry to write. `detail` is JSON text.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub ip: Option<&'a str>,
    pub action: &'a str,
    pub detail: &'a str,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    /// The email of the person who acted, or `cli`.
    pub actor: String,
    pub ip: Option<String>,
    pub action: String,
    /// JSON: what the action was about (ids, emails, counts; never a secret).
    pub detail: String,
}

#[async_trait::async_trait]
pub trait Audit {
    async fn audit_insert(&mut self, entry: &NewEntry<'_>) -> crate::Result<()>;

    /// Up to `most` entries older than `before`, newest first, whose actor and action
    /// are `like` the patterns (in any letter case; `\` escapes).
    async fn audit_page(
        &mut self,
        before: i64,
        actor_like: &str,
        action_like: &str,
        most: i64,
    ) -> crate::Result<Vec<Entry>>;
}
