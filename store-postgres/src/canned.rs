use store::canned::{Canned, Reply};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Canned for PgTx<C> {
    async fn canned_list(&mut self, user: i64) -> store::Result<Vec<Reply>> {
        sqlx::query_as!(
            Reply,
            r#"select id, shortcut, body, owner_id is null as "shared!: bool", updated_at
               from canned_replies where owner_id is null or owner_id = $1
               order by owner_id is null, lower(shortcut), id"#,
            user
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn canned_get(&mut self, id: i64, user: i64) -> store::Result<Option<Reply>> {
        sqlx::query_as!(
            Reply,
            r#"select id, shortcut, body, owner_id is null as "shared!: bool", updated_at
               from canned_replies where id = $1 and (owner_id is null or owner_id = $2)"#,
            id,
            user
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn canned_insert(
        &mut self,
        owner: Option<i64>,
        shortcut: &str,
        body: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            "insert into canned_replies (owner_id, shortcut, body, created_at, updated_at)
             values ($1, $2, $3, $4, $4) returning id",
            owner,
            shortcut,
            body,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn canned_update(
        &mut self,
        id: i64,
        shortcut: &str,
        body: &str,
        now: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "update canned_replies set shortcut = $1, body = $2, updated_at = $3 where id = $4",
            shortcut,
            body,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn canned_delete(&mut self, id: i64) -> store::Result<()> {
        sqlx::query!("delete from canned_replies where id = $1", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
