use protocol::ticket::{ClosedReason, Delivery, Status};
use store::tickets::{Head, Named, Tickets};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Tickets for SqliteTx<C> {
    async fn ticket_remote_id(&mut self, id: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select remote_id from tickets where id = ?", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn ticket_close(
        &mut self,
        id: i64,
        reason: ClosedReason,
        now: i64,
    ) -> store::Result<Option<String>> {
        sqlx::query_scalar!(
            "update tickets set status = 'closed', closed_at = ?1, closed_reason = ?2,
                                updated_at = ?1
             where id = ?3 and status != 'closed'
             returning remote_id",
            now,
            reason,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_reopen(&mut self, id: i64, now: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!(
            "update tickets
             set status = 'queued', assignee_id = null, closed_at = null, closed_reason = null,
                 updated_at = ?1, queued_at = ?1, told_position = null
             where id = ?2 and status = 'closed'
             returning remote_id",
            now,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn tickets_requeue_held_by(&mut self, user: i64, now: i64) -> store::Result<Vec<Named>> {
        sqlx::query_as!(
            Named,
            "update tickets
             set status = 'queued', assignee_id = null, updated_at = ?1, queued_at = ?1,
                 told_position = null
             where assignee_id = ?2 and status = 'assigned'
             returning id as \"id!\", remote_id, connection_id",
            now,
            user
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_head(&mut self, id: i64) -> store::Result<Option<Head>> {
        sqlx::query_as!(
            Head,
            r#"select remote_id, connection_id, status as "status: Status", assignee_id
               from tickets where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_hand_over(&mut self, id: i64, agent: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets
             set status = 'assigned', assignee_id = ?1, updated_at = ?2,
                 taken_at = coalesce(taken_at, ?2)
             where id = ?3",
            agent,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn message_agent_insert(
        &mut self,
        ticket: i64,
        kind: &str,
        payload: &str,
        author: i64,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into messages
                (ticket_id, origin, type, payload, author_id, delivery, created_at)
               values (?, 'agent', ?, ?, ?, 'pending', ?)
               returning id as "id!""#,
            ticket,
            kind,
            payload,
            author,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn ticket_responded(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets
             set first_response_at = coalesce(first_response_at, ?1),
                 message_count = message_count + 1
             where id = ?2",
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn message_agent_delivery(
        &mut self,
        message: i64,
    ) -> store::Result<Option<(i64, Option<Delivery>)>> {
        let row = sqlx::query!(
            r#"select ticket_id, delivery as "delivery: Delivery" from messages
               where id = ? and origin = 'agent'"#,
            message
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.ticket_id, r.delivery)))
    }

    async fn message_redeliver(&mut self, message: i64) -> store::Result<()> {
        sqlx::query!(
            "update messages set delivery = 'pending', delivery_error = null where id = ?",
            message
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn tickets_abandoned(&mut self, cutoff: i64) -> store::Result<Vec<(i64, String)>> {
        let rows = sqlx::query!(
            r#"select id as "id!", remote_id from tickets
               where status = 'queued' and first_inbound_at is null and created_at < ?
                 and not exists (select 1 from messages m where m.ticket_id = tickets.id)"#,
            cutoff
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.remote_id)).collect())
    }

    async fn ticket_last_message(
        &mut self,
        id: i64,
    ) -> store::Result<Option<(String, Option<i64>)>> {
        let row = sqlx::query!(
            r#"select t.remote_id, (select max(m.id) from messages m where m.ticket_id = t.id)
                      as "last?: i64"
               from tickets t where t.id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.remote_id, r.last)))
    }

    async fn ticket_read_up_to(
        &mut self,
        user: i64,
        ticket: i64,
        message: i64,
    ) -> store::Result<bool> {
        let done = sqlx::query!(
            "insert into ticket_reads (user_id, ticket_id, last_read_message_id) values (?, ?, ?)
             on conflict (user_id, ticket_id) do update
                 set last_read_message_id = excluded.last_read_message_id
                 where excluded.last_read_message_id > ticket_reads.last_read_message_id",
            user,
            ticket,
            message
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
