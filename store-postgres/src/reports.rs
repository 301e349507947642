use protocol::ticket::{ClosedReason, Status};
use store::reports::{FactRow, PersonRow, Reports};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Reports for PgTx<C> {
    async fn report_facts(
        &mut self,
        start: i64,
        end: i64,
        connection: Option<i64>,
        team: Option<i64>,
    ) -> store::Result<Vec<FactRow>> {
        sqlx::query_as!(
            FactRow,
            r#"select created_at, taken_at, first_response_at, closed_at,
                      status as "status: Status", closed_reason as "closed_reason: ClosedReason",
                      assignee_id, message_count, connection_id
               from tickets
               where created_at >= $1 and created_at < $2
                 and ($3::bigint is null or connection_id = $3)
                 and ($4::bigint is null or connection_id in (select connection_id from team_connections
                                                              where team_id = $4))"#,
            start,
            end,
            connection,
            team
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn report_people(&mut self) -> store::Result<Vec<PersonRow>> {
        sqlx::query_as!(
            PersonRow,
            "select id, public_id, name, active from users order by lower(name), id"
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn report_bots(&mut self) -> store::Result<Vec<(i64, String)>> {
        let rows = sqlx::query!("select id, name from connections order by lower(name), id")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    async fn report_teams(&mut self) -> store::Result<Vec<(i64, String)>> {
        let rows = sqlx::query!("select id, name from teams order by lower(name), id")
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
            "insert into availability_log (user_id, started_at) values ($1, $2)
             on conflict do nothing",
            user,
            now
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn availability_end(&mut self, user: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update availability_log set ended_at = greatest(started_at, $1)
             where user_id = $2 and ended_at is null",
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
             set ended_at = greatest(started_at, coalesce((select last_seen_at from users u
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
                      sum(greatest(0, least(coalesce(ended_at, $3), $2) - greatest(started_at, $1)))::bigint
                        as "ms!"
               from availability_log
               where started_at < $2 and coalesce(ended_at, $3) > $1
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
