//! One-time links (invitations and password resets): only their tokens' hashes.

use serde::Serialize;

/// Why a link was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Invite,
    Reset,
}

impl Purpose {
    /// As the schema stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
    }
}

/// A link that still works, with whom it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLink {
    pub id: i64,
    pub user_id: i64,
    pub purpose: Purpose,
    pub name: String,
    pub email: String,
}

#[async_trait::async_trait]
pub trait Links {
    /// Whether the account is active and has a password; `None` if there is none.
    async fn link_account(&mut self, user: i64) -> crate::Result<Option<(bool, bool)>>;

    /// Spends the account's unused invitation and reset links.
    async fn links_void(&mut self, user: i64, now: i64) -> crate::Result<()>;

    async fn link_insert(
        &mut self,
        purpose: Purpose,
        user: i64,
        token_sha256: &str,
        now: i64,
        expires_at: i64,
    ) -> crate::Result<()>;

    /// The unused, unexpired link with this token hash, of an active account.
    async fn link_live(&mut self, token_sha256: &str, now: i64) -> crate::Result<Option<LiveLink>>;

    async fn link_spend(&mut self, id: i64, now: i64) -> crate::Result<()>;
}
