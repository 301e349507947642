use store::teams::{MemberRow, ServedRow, Teams};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Teams for SqliteTx<C> {
    async fn teams_all(&mut self) -> store::Result<Vec<(i64, String)>> {
        let rows =
            sqlx::query!(r#"select id as "id!", name from teams order by name collate nocase, id"#)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    async fn team_members_all(&mut self) -> store::Result<Vec<MemberRow>> {
        sqlx::query_as!(
            MemberRow,
            r#"select tm.team_id, u.id as "id!", u.public_id, u.name
               from team_members tm join users u on u.id = tm.user_id
               order by u.name collate nocase, u.id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn team_connections_all(&mut self) -> store::Result<Vec<ServedRow>> {
        sqlx::query_as!(
            ServedRow,
            r#"select tc.team_id, c.id as "id!", c.name
               from team_connections tc join connections c on c.id = tc.connection_id
               order by c.name collate nocase, c.id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn team_insert(&mut self, name: &str, now: i64) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into teams (name, created_at) values (?, ?) returning id as "id!""#,
            name,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn team_rename(&mut self, id: i64, name: &str) -> store::Result<bool> {
        let done = sqlx::query!("update teams set name = ? where id = ?", name, id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn team_delete(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("delete from teams where id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn team_clear(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("delete from team_members where team_id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query!("delete from team_connections where team_id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn team_member_add(&mut self, team: i64, user: i64) -> store::Result<bool> {
        let done = sqlx::query!(
            "insert or ignore into team_members (team_id, user_id)
             select ?, id from users where id = ?",
            team,
            user
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn team_connection_add(&mut self, team: i64, connection: i64) -> store::Result<bool> {
        let done = sqlx::query!(
            "insert or ignore into team_connections (team_id, connection_id)
             select ?, id from connections where id = ?",
            team,
            connection
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn connection_has_teams(&mut self, connection: i64) -> store::Result<bool> {
        sqlx::query_scalar!(
            r#"select exists(select 1 from team_connections where connection_id = ?) as "any!: bool""#,
            connection
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn connection_audience(&mut self, connection: i64) -> store::Result<Vec<i64>> {
        sqlx::query_scalar!(
            r#"select user_id as "user_id!: i64" from visible_connections where connection_id = ?
               order by user_id"#,
            connection
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn user_sees(&mut self, user: i64, connection: i64) -> store::Result<bool> {
        sqlx::query_scalar!(
            r#"select exists(select 1 from visible_connections
                             where user_id = ? and connection_id = ?) as "sees!: bool""#,
            user,
            connection
        )
        .fetch_one(&mut *self.tx)
        .await
    }
}
