use store::activity::{Activity, LineRow, NewLine};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Activity for SqliteTx<C> {
    async fn activity_insert(&mut self, l: &NewLine<'_>) -> store::Result<()> {
        sqlx::query!(
            "insert into ticket_activity (ticket_id, actor_id, action, other_id, detail, at)
             values (?, ?, ?, ?, ?, ?)",
            l.ticket,
            l.actor,
            l.action,
            l.other,
            l.detail,
            l.at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn activity_since(&mut self, ticket: i64, since: i64) -> store::Result<Vec<LineRow>> {
        sqlx::query_as!(
            LineRow,
            r#"select a.action, a.at, a.detail, u.name as "actor?", o.name as "other?"
               from ticket_activity a
               left join users u on u.id = a.actor_id
               left join users o on o.id = a.other_id
               where a.ticket_id = ? and a.at >= ?
               order by a.at, a.id"#,
            ticket,
            since
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}
