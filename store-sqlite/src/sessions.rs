use store::sessions::Sessions;

use crate::SqliteTx;

use crate::json_list as json;

#[async_trait::async_trait]
impl<C: crate::Conn> Sessions for SqliteTx<C> {
    async fn live_epochs(&mut self, users: &[i64]) -> store::Result<Vec<(i64, i64)>> {
        let users = json(users)?;
        let rows = sqlx::query!(
            r#"select id as "id!", auth_epoch from users
               where active = 1 and id in (select value from json_each(?))"#,
            users
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.auth_epoch)).collect())
    }

    async fn revoked_tokens(&mut self, tokens: &[i64]) -> store::Result<Vec<i64>> {
        let tokens = json(tokens)?;
        sqlx::query_scalar!(
            r#"select id as "id!" from api_tokens
               where revoked_at is not null and id in (select value from json_each(?))"#,
            tokens
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn live_sessions(&mut self, sessions: &[String]) -> store::Result<Vec<String>> {
        let sessions = json(sessions)?;
        // tower-sessions' SQLite store writes the expiry as text; `julianday` reads it.
        sqlx::query_scalar!(
            r#"select id as "id!" from tower_sessions
               where id in (select value from json_each(?))
                 and julianday(expiry_date) > julianday('now')"#,
            sessions
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}
