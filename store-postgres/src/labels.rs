use store::labels::{Label, Labels};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Labels for PgTx<C> {
    async fn labels_all(&mut self) -> store::Result<Vec<Label>> {
        sqlx::query_as!(
            Label,
            "select id, name, colour from labels order by lower(name)"
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn label_get(&mut self, id: i64) -> store::Result<Option<Label>> {
        sqlx::query_as!(
            Label,
            "select id, name, colour from labels where id = $1",
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn label_insert(&mut self, name: &str, colour: &str, now: i64) -> store::Result<i64> {
        sqlx::query_scalar!(
            "insert into labels (name, colour, created_at) values ($1, $2, $3) returning id",
            name,
            colour,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn label_update(&mut self, id: i64, name: &str, colour: &str) -> store::Result<()> {
        sqlx::query!(
            "update labels set name = $1, colour = $2 where id = $3",
            name,
            colour,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn label_delete(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("delete from labels where id = $1", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn label_tickets(&mut self, label: i64) -> store::Result<Vec<store::tickets::Named>> {
        sqlx::query_as!(
            store::tickets::Named,
            r#"select t.id as "id!", t.remote_id, t.connection_id from ticket_labels tl
             join tickets t on t.id = tl.ticket_id
             where tl.label_id = $1"#,
            label
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn label_take_off_all(&mut self, label: i64) -> store::Result<u64> {
        Ok(
            sqlx::query!("delete from ticket_labels where label_id = $1", label)
                .execute(&mut *self.tx)
                .await?
                .rows_affected(),
        )
    }

    async fn ticket_label_add(
        &mut self,
        ticket: i64,
        label: i64,
        by: i64,
        now: i64,
    ) -> store::Result<bool> {
        let added = sqlx::query!(
            "insert into ticket_labels (ticket_id, label_id, added_by, added_at) values ($1, $2, $3, $4)
             on conflict do nothing",
            ticket,
            label,
            by,
            now
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(added > 0)
    }

    async fn ticket_label_remove(&mut self, ticket: i64, label: i64) -> store::Result<bool> {
        let removed = sqlx::query!(
            "delete from ticket_labels where ticket_id = $1 and label_id = $2",
            ticket,
            label
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(removed > 0)
    }

    async fn labels_of_tickets(&mut self, tickets: &[i64]) -> store::Result<Vec<(i64, Label)>> {
        let rows = sqlx::query!(
            "select tl.ticket_id, l.id, l.name, l.colour
             from ticket_labels tl join labels l on l.id = tl.label_id
             where tl.ticket_id = any($1)
             order by lower(l.name)",
            tickets
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let label = Label {
                    id: r.id,
                    name: r.name,
                    colour: r.colour,
                };
                (r.ticket_id, label)
            })
            .collect())
    }
}
