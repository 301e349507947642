//! Accounts: who they are, how they sign in (passwords, the epoch that ends every
//! session at once, personal API tokens, the first-run setup link), their settings and
//! when they were last seen.

use protocol::account::{Availability, Role};
use serde::Serialize;

/// An agent or admin, as the rest of Baton needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    /// What Botpress sees as the agent's `remoteUserId`.
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// What signing in with a password needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub id: i64,
    pub password_hash: Option<String>,
    pub auth_epoch: i64,
    pub active: bool,
}

/// A row of the admin's agent list, before presence is worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub has_password: bool,
    pub last_seen_at: Option<i64>,
    pub availability: Availability,
    pub capacity: Option<i64>,
    /// Tickets they hold.
    pub open: i64,
}

/// A live personal API token, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[async_trait::async_trait]
pub trait Accounts {
    /// The new account's id; an email already taken (any letter case) is a unique
    /// violation.
    async fn user_insert(
        &mut self,
        public_id: &str,
        email: &str,
        name: &str,
        role: Role,
        now: i64,
    ) -> crate::Result<i64>;

    async fn user_get(&mut self, id: i64) -> crate::Result<Option<User>>;

    async fn user_id_by_public_id(&mut self, public_id: &str) -> crate::Result<Option<i64>>;

    /// The account with this email, in any letter case.
    async fn user_id_by_email(&mut self, email: &str) -> crate::Result<Option<i64>>;

    /// Whether any account exists (a fresh install has none).
    async fn users_any(&mut self) -> crate::Result<bool>;

    /// What signing in as `email` (any letter case) checks.
    async fn user_sign_in(&mut self, email: &str) -> crate::Result<Option<SignIn>>;

    /// The account's epoch and whether it is active.
    async fn user_epoch(&mut self, id: i64) -> crate::Result<Option<(i64, bool)>>;

    async fn user_password_hash(&mut self, id: i64) -> crate::Result<Option<Option<String>>>;

    /// Sets a first password on a new account (its sessions, none yet, stay).
    async fn user_set_first_password(&mut self, id: i64, hash: &str) -> crate::Result<()>;

    /// Sets the password hash and ends the account's sessions and tokens (the epoch
    /// moves on); `false` if there is no such account.
    async fn user_set_password(&mut self, id: i64, hash: &str) -> crate::Result<bool>;

    async fn user_role(&mut self, id: i64) -> crate::Result<Option<(Role, bool)>>;

    async fn user_update(&mut self, id: i64, name: &str, role: Role) -> crate::Result<()>;

    /// Deactivates the account and ends its sessions and tokens.
    async fn user_deactivate(&mut self, id: i64) -> crate::Result<()>;

    /// `false` if there is no such account.
    async fn user_activate(&mut self, id: i64) -> crate::Result<bool>;

    async fn admins_active(&mut self) -> crate::Result<i64>;

    /// Everyone, active first, then by name in any letter case.
    async fn people_all(&mut self) -> crate::Result<Vec<PersonRow>>;

    async fn user_touch(&mut self, id: i64, now: i64) -> crate::Result<()>;

    /// The alert settings as JSON text; `None` if there is no such account.
    async fn user_notification_settings(&mut self, id: i64) -> crate::Result<Option<String>>;

    async fn user_set_notification_settings(&mut self, id: i64, json: &str) -> crate::Result<()>;

    async fn user_availability(&mut self, id: i64) -> crate::Result<Option<Availability>>;

    async fn user_set_availability(&mut self, id: i64, choice: Availability) -> crate::Result<()>;

    async fn token_insert(
        &mut self,
        user: i64,
        label: &str,
        token_sha256: &str,
        epoch: i64,
        now: i64,
    ) -> crate::Result<i64>;

    /// The token with this hash as (token id, account id), if it is live: not
    /// revoked, issued under the account's epoch, and the account active.
    async fn token_live(&mut self, token_sha256: &str) -> crate::Result<Option<(i64, i64)>>;

    async fn token_used(&mut self, id: i64, now: i64) -> crate::Result<()>;

    /// The account's live tokens, oldest first.
    async fn tokens_of(&mut self, user: i64) -> crate::Result<Vec<ApiToken>>;

    /// `false` if the account has no such unrevoked token.
    async fn token_revoke(&mut self, user: i64, id: i64, now: i64) -> crate::Result<bool>;

    /// Replaces any unused setup link with a new one.
    async fn setup_link_replace(
        &mut self,
        token_sha256: &str,
        now: i64,
        expires_at: i64,
    ) -> crate::Result<()>;

    /// The unused, unexpired setup link with this token hash.
    async fn setup_link_live(&mut self, token_sha256: &str, now: i64)
    -> crate::Result<Option<i64>>;
}
