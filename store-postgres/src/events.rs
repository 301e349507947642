use store::events::{CHANNEL, EventRow, Events, HERE_CHANNEL, NewEvent};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Events for PgTx<C> {
    async fn events_append(&mut self, events: &[NewEvent]) -> store::Result<i64> {
        let mut last = 0;
        for event in events {
            last = sqlx::query_scalar!(
                "insert into events (change, audience) values ($1, $2) returning seq",
                event.change,
                event.audience.as_deref()
            )
            .fetch_one(&mut *self.tx)
            .await?;
        }
        if !events.is_empty() {
            // Delivered when the transaction commits, and only then; one per
            // transaction is enough, since listeners read everything new.
            sqlx::query!("select pg_notify($1, '') as \"sent\"", CHANNEL)
                .fetch_one(&mut *self.tx)
                .await?;
        }
        Ok(last)
    }

    async fn events_after(&mut self, after: i64, most: i64) -> store::Result<Vec<EventRow>> {
        sqlx::query_as!(
            EventRow,
            "select seq, change, audience from events where seq > $1 order by seq limit $2",
            after,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn events_latest(&mut self, most: i64) -> store::Result<Vec<EventRow>> {
        let mut rows = sqlx::query_as!(
            EventRow,
            "select seq, change, audience from events order by seq desc limit $1",
            most
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.reverse();
        Ok(rows)
    }

    async fn events_prune(&mut self, keep: i64) -> store::Result<u64> {
        Ok(sqlx::query!(
            "delete from events where seq <= (select max(seq) from events) - $1",
            keep
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected())
    }

    async fn here_tell(&mut self, notices: &[String]) -> store::Result<()> {
        for notice in notices {
            sqlx::query!("select pg_notify($1, $2) as \"sent\"", HERE_CHANNEL, notice)
                .fetch_one(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}
