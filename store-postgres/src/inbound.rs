use protocol::ticket::Status;
use store::inbound::{Addressed, Inbound, MappedBy, NewCustomer, NewMessage, NewTicket};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Inbound for PgTx<C> {
    async fn connection_contact(&mut self, connection: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update connections set last_inbound_at = $1
             where id = $2 and (last_inbound_at is null or last_inbound_at < $1)",
            now,
            connection
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn customer_refresh(
        &mut self,
        connection: i64,
        email: &str,
        name: Option<&str>,
        picture_url: Option<&str>,
        now: i64,
    ) -> store::Result<Option<String>> {
        // Emails are unique per connection on `lower(email)`, whose index this uses.
        sqlx::query_scalar!(
            "update customers
             set name = case when edited_at is null then coalesce($1, name) else name end,
                 picture_url = coalesce($2, picture_url), updated_at = $3
             where connection_id = $4 and lower(email) = lower($5)
             returning public_id",
            name,
            picture_url,
            now,
            connection,
            email
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn customer_insert(&mut self, new: &NewCustomer<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into customers
                (public_id, connection_id, name, email, picture_url, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $6)",
            new.public_id,
            new.connection,
            new.name,
            new.email,
            new.picture_url,
            new.at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn customer_link_botpress(
        &mut self,
        connection: i64,
        public_id: &str,
        botpress_user_id: &str,
    ) -> store::Result<()> {
        sqlx::query!(
            "update customers set botpress_user_id = $3
             where connection_id = $1 and public_id = $2",
            connection,
            public_id,
            botpress_user_id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn customer_recover(
        &mut self,
        connection: i64,
        public_id: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into customers (public_id, connection_id, recovered, created_at, updated_at)
               values ($1, $2, true, $3, $3)
               returning id as "id!""#,
            public_id,
            connection,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn ticket_insert(&mut self, new: &NewTicket<'_>) -> store::Result<i64> {
        let sync_state = if new.sync_at.is_some() {
            "pending"
        } else {
            "none"
        };
        sqlx::query_scalar!(
            "insert into tickets
                (connection_id, remote_id, title, description, created_at, updated_at,
                 sync_state, sync_next_at, priority, team_id, customer_id)
             values ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)
             returning id",
            new.connection,
            new.remote_id,
            new.title,
            new.description,
            new.at,
            sync_state,
            new.sync_at,
            new.priority.map(|p| p.as_str()),
            new.team,
            new.customer
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn ticket_recover(
        &mut self,
        connection: i64,
        remote_id: &str,
        description: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into tickets
                (connection_id, remote_id, title, description, recovered, created_at, updated_at)
               values ($1, $2, 'Recovered conversation', $3, true, $4, $4)
               returning id as "id!""#,
            connection,
            remote_id,
            description,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn message_addressed(
        &mut self,
        connection: i64,
        ticket_remote_id: &str,
        customer_public_id: &str,
    ) -> store::Result<Addressed> {
        let found = sqlx::query!(
            r#"select
                (select id from tickets where connection_id = $1 and remote_id = $2)
                    as "ticket?: i64",
                (select id from customers where connection_id = $1 and public_id = $3)
                    as "customer?: i64",
                (select end_notice_text from connections where id = $1)
                    as "end_notice?: String""#,
            connection,
            ticket_remote_id,
            customer_public_id
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(Addressed {
            ticket: found.ticket,
            customer: found.customer,
            end_notice: found.end_notice,
        })
    }

    async fn message_insert(&mut self, new: &NewMessage<'_>) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            "insert into messages
                (ticket_id, origin, type, payload, customer_id, external_id, created_at)
             values ($1, $2, $3, $4::text::jsonb, $5, $6, $7)
             on conflict (ticket_id, external_id) where external_id is not null do nothing
             returning id",
            new.ticket,
            new.origin.as_str(),
            new.kind,
            new.payload,
            new.customer,
            new.external_id,
            new.at
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_message_arrived(
        &mut self,
        ticket: i64,
        customer: Option<i64>,
        counted: bool,
        now: i64,
    ) -> store::Result<Status> {
        let counted = i64::from(counted);
        let status = sqlx::query_scalar!(
            "update tickets
             set customer_id = coalesce(customer_id, $1),
                 first_inbound_at = coalesce(first_inbound_at, $2),
                 updated_at = $2,
                 message_count = message_count + $3
             where id = $4
             returning status",
            customer,
            now,
            counted,
            ticket
        )
        .fetch_one(&mut *self.tx)
        .await?;
        crate::parse(&status)
    }

    async fn ticket_end_notice(&mut self, ticket: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets set end_notice_at = $1 where id = $2",
            now,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn close_request_insert(
        &mut self,
        connection: i64,
        conversation: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into close_requests (connection_id, botpress_conversation_id, received_at)
               values ($1, $2, $3)
               returning id as "id!""#,
            connection,
            conversation,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn ticket_by_conversation(
        &mut self,
        connection: i64,
        conversation: &str,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from tickets
               where connection_id = $1 and botpress_conversation_id = $2"#,
            connection,
            conversation
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn close_request_due(&mut self, request: i64, at: i64) -> store::Result<()> {
        sqlx::query!(
            "update close_requests set next_attempt_at = $1 where id = $2",
            at,
            request
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn close_request_map(
        &mut self,
        request: i64,
        ticket: i64,
        by: MappedBy,
    ) -> store::Result<String> {
        sqlx::query_scalar!(
            "update close_requests set state = 'mapped', ticket_id = $1, mapped_by = $2,
                    last_error = null, next_attempt_at = null
             where id = $3
             returning botpress_conversation_id",
            ticket,
            by.as_str(),
            request
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn close_request_unmapped(&mut self, request: i64) -> store::Result<()> {
        sqlx::query!(
            "update close_requests set state = 'unmapped', next_attempt_at = null where id = $1",
            request
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_remember_conversation(
        &mut self,
        ticket: i64,
        conversation: &str,
    ) -> store::Result<()> {
        sqlx::query!(
            "update tickets set botpress_conversation_id = coalesce(botpress_conversation_id, $1)
             where id = $2
               and not exists (select 1 from tickets o
                               where o.connection_id = tickets.connection_id
                                 and o.botpress_conversation_id = $1 and o.id != $2)",
            conversation,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn ticket_by_end_notice(
        &mut self,
        connection: i64,
        since: i64,
        until: i64,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from tickets
               where connection_id = $1 and end_notice_at between $2 and $3
                 and botpress_conversation_id is null
               order by end_notice_at, id
               limit 1"#,
            connection,
            since,
            until
        )
        .fetch_optional(&mut *self.tx)
        .await
    }
}
