use store::links::{Links, LiveLink, Purpose};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Links for PgTx<C> {
    async fn link_account(&mut self, user: i64) -> store::Result<Option<(bool, bool)>> {
        let row = sqlx::query!(
            r#"select active, (password_hash is not null) as "has_password!"
               from users where id = $1"#,
            user
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.active, r.has_password)))
    }

    async fn links_void(&mut self, user: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update one_time_links set used_at = $1
             where user_id = $2 and purpose in ('invite', 'reset') and used_at is null",
            now,
            user
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn link_insert(
        &mut self,
        purpose: Purpose,
        user: i64,
        token_sha256: &str,
        now: i64,
        expires_at: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "insert into one_time_links (purpose, user_id, token_sha256, created_at, expires_at)
             values ($1, $2, $3, $4, $5)",
            purpose.as_str(),
            user,
            token_sha256,
            now,
            expires_at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn link_live(&mut self, token_sha256: &str, now: i64) -> store::Result<Option<LiveLink>> {
        let row = sqlx::query!(
            "select l.id, u.id as user_id, l.purpose, u.name, u.email
             from one_time_links l join users u on u.id = l.user_id
             where l.token_sha256 = $1 and l.purpose in ('invite', 'reset')
               and l.used_at is null and l.expires_at > $2 and u.active",
            token_sha256,
            now
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| LiveLink {
            id: r.id,
            user_id: r.user_id,
            purpose: if r.purpose == "invite" {
                Purpose::Invite
            } else {
                Purpose::Reset
            },
            name: r.name,
            email: r.email,
        }))
    }

    async fn link_spend(&mut self, id: i64, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update one_time_links set used_at = $1 where id = $2",
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
