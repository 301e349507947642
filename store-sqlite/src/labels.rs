use store::labels::{Label, Labels};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Labels for SqliteTx<C> {
    async fn labels_all(&mut self) -> store::Result<Vec<Label>> {
        sqlx::query_as!(
            Label,
            r#"select id as "id!", name, colour from labels order by name collate nocase"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn label_get(&mut self, id: i64) -> store::Result<Option<Label>> {
        sqlx::query_as!(
            Label,
            r#"select id as "id!", name, colour from labels where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn label_insert(&mut self, name: &str, colour: &str, now: i64) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into labels (name, colour, created_at) values (?, ?, ?) returning id as "id!""#,
            name,
            colour,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn label_update(&mut self, id: i64, name: &str, colour: &str) -> store::Result<()> {
        sqlx::query!(
            "update labels set name = ?, colour = ? where id = ?",
            name,
            colour,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn label_delete(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("delete from labels where id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn label_tickets(&mut self, label: i64) -> store::Result<Vec<store::tickets::Named>> {
        sqlx::query_as!(
            store::tickets::Named,
            r#"select t.id as "id!", t.remote_id, t.connection_id from ticket_labels tl
             join tickets t on t.id = tl.ticket_id
             where tl.label_id = ?"#,
            label
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn label_take_off_all(&mut self, label: i64) -> store::Result<u64> {
        Ok(
            sqlx::query!("delete from ticket_labels where label_id = ?", label)
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
            "insert into ticket_labels (ticket_id, label_id, added_by, added_at) values (?, ?, ?, ?)
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
            "delete from ticket_labels where ticket_id = ? and label_id = ?",
            ticket,
            label
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(removed > 0)
    }

    async fn labels_of_tickets(&mut self, tickets: &[i64]) -> store::Result<Vec<(i64, Label)>> {
        // SQLite has no arrays: the ids travel as one JSON list.
        let ids = crate::json_list(tickets)?;
        let rows = sqlx::query!(
            r#"select tl.ticket_id, l.id as "id!", l.name, l.colour
               from ticket_labels tl join labels l on l.id = tl.label_id
               where tl.ticket_id in (select value from json_each(?))
               order by l.name collate nocase"#,
            ids
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
