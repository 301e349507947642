use store::media::{Attachment, Media, Pending, Stored};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Media for PgTx<C> {
    async fn media_insert(
        &mut self,
        message: i64,
        ticket: i64,
        url: &str,
        now: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "insert into media (message_id, ticket_id, url, created_at) values ($1, $2, $3, $4)",
            message,
            ticket,
            url,
            now
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn media_pending(&mut self, most: i64) -> store::Result<Vec<Pending>> {
        sqlx::query_as!(
            Pending,
            r#"select m.id as "id!", t.remote_id as ticket, t.id as "ticket_id!", t.connection_id as connection,
                      m.message_id as message, m.url
               from media m join tickets t on t.id = m.ticket_id
               where m.state = 'pending' order by m.id limit $1"#,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn media_stored(&mut self, id: i64, copy: &Stored<'_>, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update media set state = 'stored', key = $1, name = $2, content_type = $3, size = $4,
                    finished_at = $5
             where id = $6",
            copy.key,
            copy.name,
            copy.content_type,
            copy.size,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn media_failed(&mut self, id: i64, reason: &str, now: i64) -> store::Result<()> {
        sqlx::query!(
            "update media set state = 'failed', error = $1, finished_at = $2 where id = $3",
            reason,
            now,
            id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn media_copies(
        &mut self,
        messages: &[i64],
    ) -> store::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query!(
            r#"select url, key as "key!", name as "name!" from media
               where state = 'stored' and message_id = any($1)"#,
            messages
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.url, r.key, r.name)).collect())
    }

    async fn attachment_insert(&mut self, file: &Attachment<'_>, now: i64) -> store::Result<()> {
        sqlx::query!(
            "insert into attachments
                (key, ticket_id, uploader_id, name, content_type, size, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
            file.key,
            file.ticket,
            file.uploader,
            file.name,
            file.content_type,
            file.size,
            now
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn attachment_delete(&mut self, key: &str) -> store::Result<()> {
        sqlx::query!("delete from attachments where key = $1", key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn file_by_key(&mut self, key: &str) -> store::Result<Option<(String, String)>> {
        let row = sqlx::query!(
            r#"select name as "name!", content_type as "content_type!" from attachments where key = $1
               union all
               select name as "name!", content_type as "content_type!" from media
               where key = $1 and state = 'stored'"#,
            key
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (r.name, r.content_type)))
    }
}
