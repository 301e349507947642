//! Canned replies: shared ones (no owner) and each agent's own.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub id: i64,
    pub shortcut: String,
    pub body: String,
    /// Offered to everyone and managed by admins; else the caller's own.
    pub shared: bool,
    pub updated_at: i64,
}

#[async_trait::async_trait]
pub trait Canned {
    /// The replies `user` may use: their own first, then the shared ones, each by
    /// shortcut in any letter case.
    async fn canned_list(&mut self, user: i64) -> crate::Result<Vec<Reply>>;

    /// Reply `id` if it is shared or `user`'s own.
    async fn canned_get(&mut self, id: i64, user: i64) -> crate::Result<Option<Reply>>;

    /// A new reply, shared when `owner` is `None`; its id. A shortcut already used in
    /// the same scope (any letter case) is a unique violation.
    async fn canned_insert(
        &mut self,
        owner: Option<i64>,
        shortcut: &str,
        body: &str,
        now: i64,
    ) -> crate::Result<i64>;

    async fn canned_update(
        &mut self,
        id: i64,
        shortcut: &str,
        body: &str,
        now: i64,
    ) -> crate::Result<()>;

    async fn canned_delete(&mut self, id: i64) -> crate::Result<()>;
}
