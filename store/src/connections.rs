//! Botpress connections: one per bot.
//!
//! A connection's public face ([`Connection`]) carries no secret. The webhook URL and
//! the Botpress access token live in [`Secrets`], which is not `Serialize`, so the type
//! system keeps them out of anything sent to a browser.

use protocol::integration::Integration;
use serde::Serialize;

/// What anyone allowed to see connections may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub id: i64,
    pub name: String,
    pub botpress_bot_id: Option<String>,
    /// Whether an access token is stored (the token itself never leaves the server).
    pub has_api_token: bool,
    pub end_notice_text: String,
    pub created_at: i64,
    pub last_inbound_at: Option<i64>,
    pub last_outbound_ok_at: Option<i64>,
    pub last_outbound_error_at: Option<i64>,
    pub last_outbound_error: Option<String>,
    /// Which Botpress integration the bot uses for this connection.
    pub integration: Integration,
    /// Baton's integration only: the webhook URL its registration brought. Not a
    /// secret there (every call to it is signed), unlike plus/hitl-api's.
    pub registered_webhook_url: Option<String>,
    /// Baton's integration only: when it last registered, and when it was
    /// uninstalled since (then nothing is sent to it).
    pub registered_at: Option<i64>,
    pub unregistered_at: Option<i64>,
}

/// Server-only: what it takes to call the bot.
#[derive(Clone)]
pub struct Secrets {
    pub webhook_url: String,
    pub botpress_bot_id: Option<String>,
    pub botpress_token: Option<String>,
    pub integration: Integration,
    /// Baton's integration: the key every call to it is signed with.
    pub signing_key: Option<String>,
    /// Baton's integration was uninstalled (and not installed again since).
    pub unregistered: bool,
}

impl Secrets {
    /// Bot id and access token, when both are configured.
    pub fn api_credentials(&self) -> Option<(&str, &str)> {
        match (&self.botpress_bot_id, &self.botpress_token) {
            (Some(bot), Some(token)) if !bot.is_empty() && !token.is_empty() => {
                Some((bot.as_str(), token.as_str()))
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("webhook_url", &"<redacted>")
            .field("botpress_bot_id", &self.botpress_bot_id)
            .field(
                "botpress_token",
                &self.botpress_token.as_ref().map(|_| "<redacted>"),
            )
            .field("integration", &self.integration)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("unregistered", &self.unregistered)
            .finish()
    }
}

/// What a request's endpoint token names: the connection, its token (compared in
/// constant time), and which integration may call it.
#[derive(Debug, Clone)]
pub struct ByToken {
    pub id: i64,
    pub endpoint_token: String,
    pub integration: Integration,
}

/// A connection to store.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    pub name: &'a str,
    pub endpoint_token: &'a str,
    pub endpoint_token_sha256: &'a str,
    pub integration: Integration,
    /// Empty for Baton's integration until it registers.
    pub webhook_url: &'a str,
    pub botpress_bot_id: Option<&'a str>,
    pub botpress_token: Option<&'a str>,
    pub at: i64,
}

/// What an admin's edit sets.
#[derive(Debug, Clone)]
pub struct EditRow<'a> {
    pub name: &'a str,
    pub webhook_url: &'a str,
    pub botpress_bot_id: Option<&'a str>,
    pub botpress_token: Option<&'a str>,
    pub end_notice_text: &'a str,
}

/// A `closeRemoteTicket` Baton could not (yet) match to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmappedClose {
    pub botpress_conversation_id: String,
    pub received_at: i64,
    /// `pending` (still being tried) or `unmapped` (given up until credentials change).
    pub state: String,
    pub last_error: Option<String>,
}

#[async_trait::async_trait]
pub trait Connections {
    /// The new connection's id; a name already taken (any letter case) is a unique
    /// violation.
    async fn connection_insert(&mut self, new: &NewRow<'_>) -> crate::Result<i64>;

    /// A name already taken is a unique violation.
    async fn connection_update(&mut self, id: i64, edit: &EditRow<'_>) -> crate::Result<()>;

    async fn connection_get(&mut self, id: i64) -> crate::Result<Option<Connection>>;

    /// Every connection, by name in any letter case.
    async fn connections_all(&mut self) -> crate::Result<Vec<Connection>>;

    /// The connection with this name, in any letter case.
    async fn connection_id_by_name(&mut self, name: &str) -> crate::Result<Option<i64>>;

    /// The connection whose endpoint token has this hash, with the token itself.
    async fn connection_by_token(&mut self, token_sha256: &str) -> crate::Result<Option<ByToken>>;

    async fn connection_secrets(&mut self, id: i64) -> crate::Result<Option<Secrets>>;

    async fn connection_endpoint_token(&mut self, id: i64) -> crate::Result<Option<String>>;

    /// `false` if there is no such connection.
    async fn connection_set_endpoint_token(
        &mut self,
        id: i64,
        token: &str,
        token_sha256: &str,
    ) -> crate::Result<bool>;

    /// `false` if there is no such connection.
    async fn connection_set_api_credentials(
        &mut self,
        id: i64,
        bot_id: Option<&str>,
        token: Option<&str>,
    ) -> crate::Result<bool>;

    /// `false` if there is no such connection.
    async fn connection_set_end_notice(&mut self, id: i64, text: &str) -> crate::Result<bool>;

    /// The close requests not matched to a ticket, newest first (at most 100).
    async fn connection_unmapped_closes(&mut self, id: i64) -> crate::Result<Vec<UnmappedClose>>;

    /// Baton's integration registered with this webhook URL: records it, keeps the
    /// signing key if there is one (calls in flight stay valid) or stores `new_key`,
    /// and returns the key in force.
    async fn connection_register(
        &mut self,
        id: i64,
        webhook_url: &str,
        new_key: &str,
        now: i64,
    ) -> crate::Result<String>;

    /// Baton's integration was uninstalled from the bot.
    async fn connection_unregister(&mut self, id: i64, now: i64) -> crate::Result<()>;

    /// A webhook call succeeded (`error` is `None`) or failed.
    async fn connection_outbound(
        &mut self,
        id: i64,
        now: i64,
        error: Option<&str>,
    ) -> crate::Result<()>;
}
