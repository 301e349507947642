use store::canned::{Canned, Reply};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Canned for SqliteTx<C> {
    async fn canned_list(&mut self, user: i64) -> store::Result<Vec<Reply>> {
        sqlx::query_as!(
            Reply,
            r#"select id as "id!", shortcut, body, owner_id is null as "shared!: bool", updated_at
               from canned_replies where owner_id is null or owner_id = ?
               order by owner_id is null, lower(shortcut), id"#,
            user
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn canned_get(&mut self, id: i64, user: i64) -> store::Result<Option<Reply>> {
        sqlx::query_as!(
            Reply,
            r#"select id as "id!", shortcut, body, owner_id is null as "shared!: bool", updated_at
               from canned_replies where id = ? and (owner_id is null or owner_id = ?)"#,
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
            r#"insert into canned_replies (owner_id, shortcut, body, created_at, updated_at)
               values (?, ?, ?, ?, ?) returning id as "id!""#,
            owner,
            shortcut,
            body,
            now,
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
            "update canned_replies set shortcut = ?, body = ?, updated_at = ? where id = ?",
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
        sqlx::query!("delete from canned_replies where id = ?", id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
