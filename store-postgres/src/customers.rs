use protocol::ticket::Status;
use store::customers::{CustomerNoteRow, CustomerRow, CustomerTicketRow, Customers, Details};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Customers for PgTx<C> {
    async fn customer_ids(&mut self, viewer: i64, public_id: &str) -> store::Result<Vec<i64>> {
        sqlx::query_scalar!(
            r#"select c.id from customers c
               where c.public_id = $1
                 and (c.connection_id in (select connection_id from visible_connections
                                          where user_id = $2)
                      or exists (select 1 from tickets t
                                 where t.customer_id = c.id
                                   and (t.assignee_id = $2
                                        or t.connection_id in (select connection_id
                                                               from visible_connections
                                                               where user_id = $2))))
               limit 2"#,
            public_id,
            viewer
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn customer_get(&mut self, id: i64) -> store::Result<Option<CustomerRow>> {
        sqlx::query_as!(
            CustomerRow,
            r#"select c.public_id, n.name as connection, c.name, c.email, c.phone, c.company,
                      c.created_at, c.edited_at
               from customers c join connections n on n.id = c.connection_id
               where c.id = $1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn customer_tickets(
        &mut self,
        viewer: i64,
        id: i64,
        most: i64,
    ) -> store::Result<Vec<CustomerTicketRow>> {
        sqlx::query_as!(
            CustomerTicketRow,
            r#"select t.remote_id, t.title, t.status as "status: Status", t.created_at,
                      t.closed_at, u.name as "agent?"
               from tickets t left join users u on u.id = t.assignee_id
               where t.customer_id = $1
                 and (t.assignee_id = $2
                      or t.connection_id in (select connection_id from visible_connections
                                             where user_id = $2))
               order by t.created_at desc, t.id desc limit $3"#,
            id,
            viewer,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn customer_notes(&mut self, id: i64, most: i64) -> store::Result<Vec<CustomerNoteRow>> {
        sqlx::query_as!(
            CustomerNoteRow,
            r#"select n.id, u.name as author, n.text, n.created_at
               from customer_notes n join users u on u.id = n.author_id
               where n.customer_id = $1
               order by n.id desc limit $2"#,
            id,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn customer_botpress_linked(&mut self, id: i64) -> store::Result<bool> {
        let linked = sqlx::query_scalar!(
            r#"select (n.botpress_bot_id is not null and n.botpress_bot_id != ''
                       and n.botpress_token is not null and n.botpress_token != '')
                        as "linked!"
               from customers c join connections n on n.id = c.connection_id
               where c.id = $1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(linked.unwrap_or(false))
    }

    async fn customer_details(&mut self, id: i64) -> store::Result<Option<Details>> {
        sqlx::query_as!(
            Details,
            "select public_id, name, phone, company from customers where id = $1",
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn customer_update(&mut self, id: i64, d: &Details, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update customers set name = $1, phone = $2, company = $3, edited_at = $4, updated_at = $5
             where id = $6",
            d.name,
            d.phone,
            d.company,
            now,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn customer_note_insert(
        &mut self,
        id: i64,
        author: i64,
        text: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into customer_notes (customer_id, author_id, text, created_at)
               values ($1, $2, $3, $4) returning id"#,
            id,
            author,
            text,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn customer_connection(&mut self, id: i64) -> store::Result<Option<i64>> {
        sqlx::query_scalar!("select connection_id from customers where id = $1", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn customer_botpress_user_id(&mut self, id: i64) -> store::Result<Option<String>> {
        let tagged = sqlx::query_scalar!(
            r#"select botpress_user_id as "id!" from customers
               where id = $1 and botpress_user_id is not null"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        if tagged.is_some() {
            return Ok(tagged);
        }
        sqlx::query_scalar!(
            r#"select m.payload ->> 'userId' as "user_id!"
               from tickets t join messages m on m.ticket_id = t.id
               where t.customer_id = $1 and m.origin = 'customer'
                 and jsonb_typeof(m.payload -> 'userId') = 'string'
               order by m.id desc limit 1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }
}
