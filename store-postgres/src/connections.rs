use protocol::integration::Integration;
use store::connections::{
    ByToken, Connection, Connections, EditRow, NewRow, Secrets, UnmappedClose,
};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Connections for PgTx<C> {
    async fn connection_insert(&mut self, new: &NewRow<'_>) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into connections
                (name, endpoint_token, endpoint_token_sha256, integration, webhook_url,
                 botpress_bot_id, botpress_token, created_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               returning id as "id!""#,
            new.name,
            new.endpoint_token,
            new.endpoint_token_sha256,
            new.integration.as_str(),
            new.webhook_url,
            new.botpress_bot_id,
            new.botpress_token,
            new.at
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn connection_update(&mut self, id: i64, edit: &EditRow<'_>) -> store::Result<()> {
        sqlx::query!(
            "update connections set name = $1, webhook_url = $2, botpress_bot_id = $3,
                    botpress_token = $4, end_notice_text = $5
             where id = $6",
            edit.name,
            edit.webhook_url,
            edit.botpress_bot_id,
            edit.botpress_token,
            edit.end_notice_text,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn connection_get(&mut self, id: i64) -> store::Result<Option<Connection>> {
        sqlx::query_as!(
            Connection,
            r#"select id as "id!", name, botpress_bot_id,
                      (botpress_token is not null) as "has_api_token!",
                      end_notice_text, created_at, last_inbound_at, last_outbound_ok_at,
                      last_outbound_error_at, last_outbound_error,
                      integration as "integration: Integration",
                      case when integration = 'baton' and webhook_url <> '' then webhook_url end
                          as registered_webhook_url,
                      registered_at, unregistered_at
               from connections where id = $1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn connections_all(&mut self) -> store::Result<Vec<Connection>> {
        sqlx::query_as!(
            Connection,
            r#"select id as "id!", name, botpress_bot_id,
                      (botpress_token is not null) as "has_api_token!",
                      end_notice_text, created_at, last_inbound_at, last_outbound_ok_at,
                      last_outbound_error_at, last_outbound_error,
                      integration as "integration: Integration",
                      case when integration = 'baton' and webhook_url <> '' then webhook_url end
                          as registered_webhook_url,
                      registered_at, unregistered_at
               from connections order by lower(name), id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn connection_id_by_name(&mut self, name: &str) -> store::Result<Option<i64>> {
        // Names are unique on `lower(name)`, whose index this uses.
        sqlx::query_scalar!(
            "select id from connections where lower(name) = lower($1)",
            name
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn connection_by_token(&mut self, token_sha256: &str) -> store::Result<Option<ByToken>> {
        sqlx::query_as!(
            ByToken,
            r#"select id as "id!", endpoint_token, integration as "integration: Integration"
               from connections where endpoint_token_sha256 = $1"#,
            token_sha256
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn connection_secrets(&mut self, id: i64) -> store::Result<Option<Secrets>> {
        sqlx::query_as!(
            Secrets,
            r#"select webhook_url, botpress_bot_id, botpress_token,
                      integration as "integration: Integration", signing_key,
                      (unregistered_at is not null) as "unregistered!"
               from connections where id = $1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn connection_endpoint_token(&mut self, id: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select endpoint_token from connections where id = $1", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn connection_set_endpoint_token(
        &mut self,
        id: i64,
        token: &str,
        token_sha256: &str,
    ) -> store::Result<bool> {
        let done = sqlx::query!(
            "update connections set endpoint_token = $1, endpoint_token_sha256 = $2 where id = $3",
            token,
            token_sha256,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn connection_set_api_credentials(
        &mut self,
        id: i64,
        bot_id: Option<&str>,
        token: Option<&str>,
    ) -> store::Result<bool> {
        let done = sqlx::query!(
            "update connections set botpress_bot_id = $1, botpress_token = $2 where id = $3",
            bot_id,
            token,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn connection_set_end_notice(&mut self, id: i64, text: &str) -> store::Result<bool> {
        let done = sqlx::query!(
            "update connections set end_notice_text = $1 where id = $2",
            text,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn connection_unmapped_closes(&mut self, id: i64) -> store::Result<Vec<UnmappedClose>> {
        sqlx::query_as!(
            UnmappedClose,
            r#"select botpress_conversation_id, received_at, state, last_error
               from close_requests
               where connection_id = $1 and state in ('pending', 'unmapped')
               order by id desc limit 100"#,
            id
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn connection_register(
        &mut self,
        id: i64,
        webhook_url: &str,
        new_key: &str,
        now: i64,
    ) -> store::Result<String> {
        sqlx::query_scalar!(
            r#"update connections
               set webhook_url = $1, signing_key = coalesce(signing_key, $2),
                   registered_at = $3, unregistered_at = null
               where id = $4
               returning signing_key as "signing_key!""#,
            webhook_url,
            new_key,
            now,
            id
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn connection_unregister(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update connections set unregistered_at = $1 where id = $2",
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn connection_outbound(
        &mut self,
        id: i64,
        now: i64,
        error: Option<&str>,
    ) -> store::Result<()> {
        match error {
            None => {
                sqlx::query!(
                    "update connections set last_outbound_ok_at = $1 where id = $2",
                    now,
                    id
                )
                .execute(&mut *self.tx)
                .await?;
            }
            Some(e) => {
                sqlx::query!(
                    "update connections set last_outbound_error_at = $1, last_outbound_error = $2
                     where id = $3",
                    now,
                    e,
                    id
                )
                .execute(&mut *self.tx)
                .await?;
            }
        }
        Ok(())
    }
}
