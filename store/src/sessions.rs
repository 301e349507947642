//! What the socket revocation sweep checks: which of the open sockets' accounts,
//! API tokens and sessions are still good.

#[async_trait::async_trait]
pub trait Sessions {
    /// Of these users, the active ones with their auth epoch.
    async fn live_epochs(&mut self, users: &[i64]) -> crate::Result<Vec<(i64, i64)>>;

    /// Of these API tokens, the revoked ones.
    async fn revoked_tokens(&mut self, tokens: &[i64]) -> crate::Result<Vec<i64>>;

    /// Of these sign-in sessions, the ones that exist and have not expired.
    async fn live_sessions(&mut self, sessions: &[String]) -> crate::Result<Vec<String>>;
}
