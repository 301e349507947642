use store::sessions::Sessions;

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Sessions for PgTx<C> {
    async fn live_epochs(&mut self, users: &[i64]) -> store::Result<Vec<(i64, i64)>> {
        let rows = sqlx::query!(
            "select id, auth_epoch from users where active and id = any($1)",
            users
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.auth_epoch)).collect())
    }

    async fn revoked_tokens(&mut self, tokens: &[i64]) -> store::Result<Vec<i64>> {
        sqlx::query_scalar!(
            "select id from api_tokens where revoked_at is not null and id = any($1)",
            tokens
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn live_sessions(&mut self, sessions: &[String]) -> store::Result<Vec<String>> {
        sqlx::query_scalar!(
            "select id from tower_sessions where id = any($1) and expiry_date > now()",
            sessions
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}
