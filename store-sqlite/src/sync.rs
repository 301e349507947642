use store::sync::{DueClose, DueSync, Syncing, TranscriptLine};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Syncing for SqliteTx<C> {
    async fn sync_next_due(&mut self) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select min(at) as "at: i64" from (
                 select next_attempt_at as at from close_requests
                   where state = 'pending' and next_attempt_at is not null
                 union all
                 select sync_next_at as at from tickets where sync_state = 'pending') due"#
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn close_requests_due(&mut self, now: i64, most: i64) -> store::Result<Vec<DueClose>> {
        sqlx::query_as!(
            DueClose,
            r#"select id as "id!", connection_id, botpress_conversation_id, attempts, received_at
               from close_requests
               where state = 'pending' and next_attempt_at <= ? order by id limit ?"#,
            now,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn tickets_sync_due(&mut self, now: i64, most: i64) -> store::Result<Vec<DueSync>> {
        sqlx::query_as!(
            DueSync,
            r#"select id as "id!", connection_id, remote_id, botpress_conversation_id,
                      sync_attempts
               from tickets where sync_state = 'pending' and sync_next_at <= ?
               order by id limit ?"#,
            now,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_id_by_remote(
        &mut self,
        connection: i64,
        remote_id: &str,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from tickets where connection_id = ? and remote_id = ?"#,
            connection,
            remote_id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_set_upstream(&mut self, ticket: i64, upstream: &str) -> store::Result<()> {
        sqlx::query!(
            "update tickets set upstream_conversation_id =
                 coalesce(upstream_conversation_id, ?) where id = ?",
            upstream,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn close_request_retry(&mut self, id: i64, next: i64, error: &str) -> store::Result<()> {
        sqlx::query!(
            "update close_requests set attempts = attempts + 1, next_attempt_at = ?,
                    last_error = ?
             where id = ?",
            next,
            error,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn close_request_failed_lookup(&mut self, id: i64, error: &str) -> store::Result<()> {
        sqlx::query!(
            "update close_requests set attempts = attempts + 1, last_error = ? where id = ?",
            error,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_holding_conversation(
        &mut self,
        connection: i64,
        conversation: &str,
        except: i64,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from tickets
               where connection_id = ? and botpress_conversation_id = ? and id != ?"#,
            connection,
            conversation,
            except
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_set_conversations(
        &mut self,
        ticket: i64,
        conversation: &str,
        upstream: Option<&str>,
    ) -> store::Result<()> {
        sqlx::query!(
            "update tickets set botpress_conversation_id = coalesce(botpress_conversation_id, ?),
                    upstream_conversation_id = coalesce(upstream_conversation_id, ?)
             where id = ?",
            conversation,
            upstream,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_customer_and_created(
        &mut self,
        ticket: i64,
    ) -> store::Result<(Option<i64>, i64)> {
        let row = sqlx::query!(
            "select customer_id, created_at from tickets where id = ?",
            ticket
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.customer_id, row.created_at))
    }

    async fn transcript_insert(&mut self, line: &TranscriptLine<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into messages
                (ticket_id, origin, type, payload, customer_id, external_id, sent_at, created_at)
             values (?, ?, ?, ?, ?, ?, ?, ?)
             on conflict (ticket_id, external_id) where external_id is not null do nothing",
            line.ticket,
            line.origin,
            line.kind,
            line.payload,
            line.customer,
            line.external_id,
            line.sent_at,
            line.at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_sync_none(&mut self, ticket: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets set sync_state = 'none', sync_next_at = null where id = ?",
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_sync_done(&mut self, ticket: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets set sync_state = 'done', sync_next_at = null, sync_error = null
             where id = ?",
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_sync_retry(
        &mut self,
        ticket: i64,
        next: i64,
        error: &str,
    ) -> store::Result<()> {
        sqlx::query!(
            "update tickets set sync_attempts = sync_attempts + 1, sync_next_at = ?,
                    sync_error = ?
             where id = ?",
            next,
            error,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_sync_failed(&mut self, ticket: i64, error: &str) -> store::Result<()> {
        sqlx::query!(
            "update tickets set sync_state = 'failed', sync_next_at = null, sync_error = ?
             where id = ?",
            error,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn sync_credentials_added(&mut self, connection: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update close_requests set state = 'pending', next_attempt_at = ?, attempts = 0
             where connection_id = ? and state = 'unmapped'",
            now,
            connection
        )
        .execute(&mut *self.tx)
        .await?;
        sqlx::query!(
            "update tickets set sync_state = 'pending', sync_next_at = ?, sync_attempts = 0
             where connection_id = ? and status != 'closed'
               and sync_state in ('none', 'failed')",
            now,
            connection
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
