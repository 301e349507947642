use protocol::account::{Availability, Role};
use store::accounts::{Accounts, ApiToken, PersonRow, SignIn, User};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Accounts for SqliteTx<C> {
    async fn user_insert(
        &mut self,
        public_id: &str,
        email: &str,
        name: &str,
        role: Role,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into users (public_id, email, name, role, created_at) values (?, ?, ?, ?, ?)
               returning id as "id!""#,
            public_id,
            email,
            name,
            role,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn user_get(&mut self, id: i64) -> store::Result<Option<User>> {
        sqlx::query_as!(
            User,
            r#"select id as "id!", public_id, email, name, role as "role: Role",
                      active as "active: bool"
               from users where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_id_by_public_id(&mut self, public_id: &str) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from users where public_id = ?"#,
            public_id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_id_by_email(&mut self, email: &str) -> store::Result<Option<i64>> {
        // The column is `collate nocase`, so this is in any letter case.
        sqlx::query_scalar!(r#"select id as "id!" from users where email = ?"#, email)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn users_any(&mut self) -> store::Result<bool> {
        sqlx::query_scalar!(r#"select exists(select 1 from users) as "any!: bool""#)
            .fetch_one(&mut *self.tx)
            .await
    }

    async fn user_sign_in(&mut self, email: &str) -> store::Result<Option<SignIn>> {
        sqlx::query_as!(
            SignIn,
            r#"select id as "id!", password_hash, auth_epoch, active as "active: bool"
               from users where email = ?"#,
            email
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_epoch(&mut self, id: i64) -> store::Result<Option<(i64, bool)>> {
        let row = sqlx::query!(
            r#"select auth_epoch, active as "active: bool" from users where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.auth_epoch, r.active)))
    }

    async fn user_password_hash(&mut self, id: i64) -> store::Result<Option<Option<String>>> {
        sqlx::query_scalar!("select password_hash from users where id = ?", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn user_set_first_password(&mut self, id: i64, hash: &str) -> store::Result<()> {
        sqlx::query!("update users set password_hash = ? where id = ?", hash, id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn user_set_password(&mut self, id: i64, hash: &str) -> store::Result<bool> {
        let done = sqlx::query!(
            "update users set password_hash = ?, auth_epoch = auth_epoch + 1 where id = ?",
            hash,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn user_role(&mut self, id: i64) -> store::Result<Option<(Role, bool)>> {
        let row = sqlx::query!(
            r#"select role as "role: Role", active as "active: bool" from users where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.role, r.active)))
    }

    async fn user_update(&mut self, id: i64, name: &str, role: Role) -> store::Result<()> {
        sqlx::query!(
            "update users set name = ?, role = ? where id = ?",
            name,
            role,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn user_deactivate(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!(
            "update users set active = 0, auth_epoch = auth_epoch + 1 where id = ?",
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn user_activate(&mut self, id: i64) -> store::Result<bool> {
        let done = sqlx::query!("update users set active = 1 where id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn admins_active(&mut self) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "n!: i64" from users where role = 'admin' and active = 1"#
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn people_all(&mut self) -> store::Result<Vec<PersonRow>> {
        sqlx::query_as!(
            PersonRow,
            r#"select u.id as "id!", u.public_id, u.email, u.name, u.role as "role: Role",
                      u.active as "active: bool",
                      (u.password_hash is not null) as "has_password!: bool",
                      u.last_seen_at, u.availability as "availability: Availability",
                      u.capacity,
                      (select count(*) from tickets t
                        where t.assignee_id = u.id and t.status = 'assigned') as "open!: i64"
               from users u
               order by u.active desc, u.name collate nocase, u.id"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn user_touch(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!("update users set last_seen_at = ? where id = ?", now, id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn user_notification_settings(&mut self, id: i64) -> store::Result<Option<String>> {
        sqlx::query_scalar!("select notification_settings from users where id = ?", id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn user_set_notification_settings(&mut self, id: i64, json: &str) -> store::Result<()> {
        sqlx::query!(
            "update users set notification_settings = ? where id = ?",
            json,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn user_availability(&mut self, id: i64) -> store::Result<Option<Availability>> {
        sqlx::query_scalar!(
            r#"select availability as "availability: Availability" from users where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn user_set_availability(&mut self, id: i64, choice: Availability) -> store::Result<()> {
        sqlx::query!("update users set availability = ? where id = ?", choice, id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn token_insert(
        &mut self,
        user: i64,
        label: &str,
        token_sha256: &str,
        epoch: i64,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into api_tokens (user_id, label, token_sha256, auth_epoch, created_at)
               values (?, ?, ?, ?, ?)
               returning id as "id!""#,
            user,
            label,
            token_sha256,
            epoch,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn token_live(&mut self, token_sha256: &str) -> store::Result<Option<(i64, i64)>> {
        let row = sqlx::query!(
            r#"select t.id as "id!", t.user_id
               from api_tokens t join users u on u.id = t.user_id
               where t.token_sha256 = ? and t.revoked_at is null
                 and t.auth_epoch = u.auth_epoch and u.active = 1"#,
            token_sha256
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.id, r.user_id)))
    }

    async fn token_used(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update api_tokens set last_used_at = ? where id = ?",
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn tokens_of(&mut self, user: i64) -> store::Result<Vec<ApiToken>> {
        sqlx::query_as!(
            ApiToken,
            r#"select t.id as "id!", t.label, t.created_at, t.last_used_at
               from api_tokens t join users u on u.id = t.user_id
               where t.user_id = ? and t.revoked_at is null and t.auth_epoch = u.auth_epoch
               order by t.id"#,
            user
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn token_revoke(&mut self, user: i64, id: i64, now: i64) -> store::Result<bool> {
        let done = sqlx::query!(
            "update api_tokens set revoked_at = ?
             where id = ? and user_id = ? and revoked_at is null",
            now,
            id,
            user
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn setup_link_replace(
        &mut self,
        token_sha256: &str,
        now: i64,
        expires_at: i64,
    ) -> store::Result<()> {
        sqlx::query!("delete from one_time_links where purpose = 'setup' and used_at is null")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query!(
            "insert into one_time_links (purpose, token_sha256, created_at, expires_at)
             values ('setup', ?, ?, ?)",
            token_sha256,
            now,
            expires_at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn setup_link_live(
        &mut self,
        token_sha256: &str,
        now: i64,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from one_time_links
               where purpose = 'setup' and token_sha256 = ? and used_at is null
                 and expires_at > ?"#,
            token_sha256,
            now
        )
        .fetch_optional(&mut *self.tx)
        .await
    }
}
