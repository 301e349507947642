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

#[async_trait::async_trait]
pub trait Audit {
    async fn audit_insert(&mut self, entry: &NewEntry<'_>) -> crate::Result<()>;
}
