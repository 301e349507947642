use protocol::routing::{Assignment, WhenUnavailable};
use protocol::ticket::Status;
use store::routing::{Fresh, Pick, Routing, Settings, Waiting};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Routing for SqliteTx<C> {
    async fn routing_get(&mut self, connection: i64) -> store::Result<Option<Settings>> {
        sqlx::query_as!(
            Settings,
            r#"select assignment as "assignment: Assignment", default_capacity, hours,
                      when_unavailable as "when_unavailable: WhenUnavailable",
                      unavailable_message, wait_limit_minutes, queue_position_text
               from connections where id = ?"#,
            connection
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn routing_set(&mut self, connection: i64, s: &Settings) -> store::Result<()> {
        sqlx::query!(
            "update connections
             set assignment = ?, default_capacity = ?, hours = ?, when_unavailable = ?,
                 unavailable_message = ?, wait_limit_minutes = ?, queue_position_text = ?
             where id = ?",
            s.assignment,
            s.default_capacity,
            s.hours,
            s.when_unavailable,
            s.unavailable_message,
            s.wait_limit_minutes,
            s.queue_position_text,
            connection
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn user_set_capacity(
        &mut self,
        id: i64,
        capacity: Option<i64>,
    ) -> store::Result<Option<String>> {
        sqlx::query_scalar!(
            "update users set capacity = ? where id = ? returning public_id",
            capacity,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_capacity(&mut self, id: i64) -> store::Result<Option<Option<i64>>> {
        sqlx::query_scalar!("select capacity from users where id = ?", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn routing_next_pick(&mut self, ready: &[i64]) -> store::Result<Option<Pick>> {
        let ready = crate::json_list(ready)?;
        sqlx::query_as!(
            Pick,
            r#"with agents as (
                   select u.id, u.public_id, u.capacity, u.last_routed_at,
                          (select count(*) from tickets h
                            where h.assignee_id = u.id and h.status = 'assigned') as open
                   from users u
                   where u.active = 1 and u.availability = 'available'
                     and u.id in (select value from json_each(?)))
               select t.id as "ticket!", t.remote_id, a.id as "agent!: i64",
                      a.public_id as agent_public_id
               from tickets t
               join connections c on c.id = t.connection_id
               join connection_agents ca on ca.connection_id = t.connection_id
               join agents a on a.id = ca.user_id
               where t.status = 'queued' and c.assignment = 'automatic'
                 and a.open < coalesce(a.capacity, c.default_capacity)
                 and (t.team_id is null
                      or exists (select 1 from team_members tm
                                 where tm.team_id = t.team_id and tm.user_id = a.id))
               order by case t.priority when 'urgent' then 0 when 'high' then 1
                                        when 'low' then 3 else 2 end,
                        coalesce(t.queued_at, t.created_at), t.id, a.open,
                        a.last_routed_at nulls first, a.id
               limit 1"#,
            ready
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_routed(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!("update users set last_routed_at = ? where id = ?", now, id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn routing_fresh(&mut self, ready: &[i64], most: i64) -> store::Result<Vec<Fresh>> {
        let ready = crate::json_list(ready)?;
        sqlx::query_as!(
            Fresh,
            r#"select t.id as "id!", t.remote_id, t.status as "status: Status", t.created_at,
                      c.hours, c.when_unavailable as "when_unavailable: WhenUnavailable",
                      c.unavailable_message,
                      exists (select 1 from connection_agents ca join users u on u.id = ca.user_id
                              where ca.connection_id = t.connection_id and u.active = 1
                                and u.availability = 'available'
                                and u.id in (select value from json_each(?))) as "anyone!: bool"
               from tickets t join connections c on c.id = t.connection_id
               where t.screened = 0
               order by t.id limit ?"#,
            ready,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_screened(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("update tickets set screened = 1 where id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn routing_past_wait_limit(
        &mut self,
        now: i64,
        most: i64,
    ) -> store::Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query!(
            r#"select t.id as "id!", t.remote_id, c.unavailable_message
               from tickets t join connections c on c.id = t.connection_id
               where t.status = 'queued' and c.when_unavailable = 'hand_back'
                 and c.wait_limit_minutes is not null
                 and coalesce(t.queued_at, t.created_at) < ?1 - c.wait_limit_minutes * 60000
               order by t.id limit ?2"#,
            now,
            most
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.id, r.remote_id, r.unavailable_message))
            .collect())
    }

    async fn routing_waiting(&mut self) -> store::Result<Vec<Waiting>> {
        sqlx::query_as!(
            Waiting,
            r#"select t.id as "id!", t.remote_id, t.told_position,
                      c.queue_position_text as "text!",
                      (select count(*) from tickets q
                        where q.connection_id = t.connection_id and q.status = 'queued'
                          and (coalesce(q.queued_at, q.created_at), q.id)
                              <= (coalesce(t.queued_at, t.created_at), t.id)) as "position!: i64"
               from tickets t join connections c on c.id = t.connection_id
               where t.status = 'queued' and c.queue_position_text is not null
               order by t.id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_told_position(&mut self, id: i64, position: i64) -> store::Result<()> {
        sqlx::query!(
            "update tickets set told_position = ? where id = ?",
            position,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
