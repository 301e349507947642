use protocol::ticket::{ClosedReason, Status};
use store::reports::{FactRow, PersonRow, Reports};

use crate::SqliteTx;

/// A ticket's facts as the JSON array the query builds, in [`FactRow`]'s order.
type FactArray = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<i64>,
    i64,
    i64,
);

use store::parse_name as decode;

#[async_trait::async_trait]
impl<C: crate::Conn> Reports for SqliteTx<C> {
    async fn report_facts(
        &mut self,
        start: i64,
        end: i64,
        connection: Option<i64>,
        team: Option<i64>,
    ) -> store::Result<Vec<FactRow>> {
        // As one row of JSON: SQLite's driver hands each row over from its own
        // thread, and for a year of tickets (tens of thousands of rows) those
        // hand-overs cost more than the report itself (measured: 240 ms for 60,000
        // tickets, most of it waking threads).
        let json = sqlx::query_scalar!(
            r#"select json_group_array(json_array(created_at, taken_at, first_response_at,
                                                  closed_at, status, closed_reason, assignee_id,
                                                  message_count, connection_id)) as "facts!: String"
               from tickets
               where created_at >= ?1 and created_at < ?2
                 and (?3 is null or connection_id = ?3)
                 and (?4 is null or connection_id in (select connection_id from team_connections
                                                      where team_id = ?4))"#,
            start,
            end,
            connection,
            team
        )
        .fetch_one(&mut *self.tx)
        .await?;
        let rows: Vec<FactArray> =
            serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        rows.into_iter()
            .map(|r| {
                Ok(FactRow {
                    created_at: r.0,
                    taken_at: r.1,
                    first_response_at: r.2,
                    closed_at: r.3,
                    status: decode::<Status>(&r.4)?,
                    closed_reason: r.5.as_deref().map(decode::<ClosedReason>).transpose()?,
                    assignee_id: r.6,
                    message_count: r.7,
                    connection_id: r.8,
                })
            })
            .collect()
    }

    async fn report_people(&mut self) -> store::Result<Vec<PersonRow>> {
        sqlx::query_as!(
            PersonRow,
            r#"select id as "id!", public_id, name, active as "active: bool" from users
               order by name collate nocase, id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn report_bots(&mut self) -> store::Result<Vec<(i64, String)>> {
        let rows = sqlx::query!(
            r#"select id as "id!", name from connections order by name collate nocase, id"#
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    async fn report_teams(&mut self) -> store::Result<Vec<(i64, String)>> {
        let rows =
            sqlx::query!(r#"select id as "id!", name from teams order by name collate nocase, id"#)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    async fn report_served(&mut self) -> store::Result<Vec<(i64, i64)>> {
        let rows = sqlx::query!("select team_id, connection_id from team_connections")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.team_id, r.connection_id))
            .collect())
    }

    async fn availability_start(&mut self, user: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "insert or ignore into availability_log (user_id, started_at) values (?, ?)",
            user,
            now
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn availability_end(&mut self, user: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update availability_log set ended_at = max(started_at, ?)
             where user_id = ? and ended_at is null",
            now,
            user
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn availability_close_stale(&mut self) -> store::Result<u64> {
        Ok(sqlx::query!(
            "update availability_log
             set ended_at = max(started_at, coalesce((select last_seen_at from users u
                                                       where u.id = availability_log.user_id),
                                                      started_at))
             where ended_at is null"
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected())
    }

    async fn availability_ms(
        &mut self,
        start: i64,
        end: i64,
        now: i64,
    ) -> store::Result<Vec<(i64, i64)>> {
        let rows = sqlx::query!(
            r#"select user_id,
                      sum(max(0, min(coalesce(ended_at, ?3), ?2) - max(started_at, ?1)))
                        as "ms!: i64"
               from availability_log
               where started_at < ?2 and coalesce(ended_at, ?3) > ?1
               group by user_id"#,
            start,
            end,
            now
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.user_id, r.ms)).collect())
    }
}
