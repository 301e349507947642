use store::outbox::{Claimed, NewCall, Outbox, Route};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Outbox for PgTx<C> {
    async fn outbox_insert(&mut self, call: &NewCall<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into outbox
                (connection_id, ticket_id, message_id, route, body, next_attempt_at, created_at)
             select connection_id, id, $1, $2, $3::text::jsonb, $4, $4 from tickets where id = $5",
            call.message,
            call.route.path(),
            call.body,
            call.at,
            call.ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_cancel_pending(
        &mut self,
        ticket: i64,
        reason: &str,
        now: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "update messages set delivery = 'failed', delivery_error = $1
             where id in (select message_id from outbox
                          where ticket_id = $2 and state = 'pending' and message_id is not null)",
            reason,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        sqlx::query!(
            "update outbox set state = 'failed', last_error = $1, finished_at = $2
             where ticket_id = $3 and state = 'pending'",
            reason,
            now,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_last_body(&mut self, message: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!(
            r#"select body::text as "body!" from outbox where message_id = $1 order by id desc limit 1"#,
            message
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn outbox_recover_interrupted(
        &mut self,
        reason: &str,
        now: i64,
        all: bool,
    ) -> store::Result<u64> {
        // A lease from before leases existed (null) is as good as run out.
        sqlx::query!(
            "update messages set delivery = 'failed', delivery_error = $1
             where id in (select message_id from outbox
                          where state = 'sending' and route = 'message-from-agent'
                            and ($3 or lease_until is null or lease_until <= $2))",
            reason,
            now,
            all
        )
        .execute(&mut *self.tx)
        .await?;
        let failed = sqlx::query!(
            "update outbox set state = 'failed', last_error = $1, finished_at = $2,
                               lease_until = null
             where state = 'sending' and route != 'stop-hitl'
               and ($3 or lease_until is null or lease_until <= $2)",
            reason,
            now,
            all
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let pending = sqlx::query!(
            "update outbox set state = 'pending', lease_until = null
             where state = 'sending' and ($2 or lease_until is null or lease_until <= $1)",
            now,
            all
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(failed + pending)
    }

    async fn outbox_claim(
        &mut self,
        now: i64,
        hold_ms: i64,
        most: i64,
        lease_until: i64,
    ) -> store::Result<Vec<Claimed>> {
        let rows = sqlx::query_as!(
            Claimed,
            r#"select o.id as "id!", o.connection_id, o.ticket_id, t.remote_id, o.message_id,
                      o.route as "route: Route", o.body::text as "body!",
                      o.attempts + 1 as "attempts!", o.created_at
               from outbox o join tickets t on t.id = o.ticket_id
               where o.state = 'pending' and o.next_attempt_at <= $1
                 and o.id = (select min(h.id) from outbox h
                             where h.ticket_id = o.ticket_id and h.state in ('pending', 'sending'))
                 and (t.first_inbound_at is not null or t.created_at + $2 <= $1)
               order by o.id
               limit $3
               -- Claims are serialised by the write lock today; SKIP LOCKED keeps them
               -- correct without it (a row another claim holds is passed over, and
               -- its ticket's later calls wait, as the min(id) test above requires).
               for update of o skip locked"#,
            now,
            hold_ms,
            most
        )
        .fetch_all(&mut *self.tx)
        .await?;
        for row in &rows {
            sqlx::query!(
                "update outbox set state = 'sending', attempts = attempts + 1, lease_until = $1
                 where id = $2",
                lease_until,
                row.id
            )
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(rows)
    }

    async fn outbox_next_due(&mut self, hold_ms: i64) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select min(greatest(o.next_attempt_at,
                              case when t.first_inbound_at is null then t.created_at + $1
                                   else 0 end))
                   as "due"
               from outbox o join tickets t on t.id = o.ticket_id
               where o.state = 'pending'
                 and o.id = (select min(h.id) from outbox h
                             where h.ticket_id = o.ticket_id and h.state in ('pending', 'sending'))"#,
            hold_ms
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn ticket_ended_by_botpress(&mut self, ticket: i64) -> store::Result<bool> {
        sqlx::query_scalar!(
            r#"select coalesce(closed_reason in ('customer_ended', 'bot_closed'), false)
                   as "ended!"
               from tickets where id = $1"#,
            ticket
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn outbox_sent(&mut self, id: i64, message: Option<i64>, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update outbox set state = 'sent', last_error = null, finished_at = $1 where id = $2",
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        sqlx::query!(
            "update messages set delivery = 'sent', delivery_error = null, sent_at = $1
             where id = $2",
            now,
            message
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_retry(&mut self, id: i64, reason: &str, next: i64) -> store::Result<()> {
        sqlx::query!(
            "update outbox set state = 'pending', last_error = $1, next_attempt_at = $2
             where id = $3",
            reason,
            next,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn outbox_failed(
        &mut self,
        id: i64,
        message: Option<i64>,
        reason: &str,
        now: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "update outbox set state = 'failed', last_error = $1, finished_at = $2 where id = $3",
            reason,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        sqlx::query!(
            "update messages set delivery = 'failed', delivery_error = $1 where id = $2",
            reason,
            message
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
