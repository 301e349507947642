use store::notes::{NoteRow, Notes, Person};

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Notes for SqliteTx<C> {
    async fn note_people(&mut self, except: i64, ticket: i64) -> store::Result<Vec<Person>> {
        sqlx::query_as!(
            Person,
            r#"select u.id as "id!", u.name, u.email,
                      exists(select 1 from tickets t
                             where t.id = ?2
                               and (t.assignee_id = u.id
                                    or t.connection_id in (select connection_id
                                                           from visible_connections
                                                           where user_id = u.id))) as "sees!: bool"
               from users u where u.active = 1 and u.id != ?1 order by u.id"#,
            except,
            ticket
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn note_insert(
        &mut self,
        ticket: i64,
        author: i64,
        text: &str,
        now: i64,
    ) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"insert into notes (ticket_id, author_id, text, created_at) values (?, ?, ?, ?)
               returning id as "id!""#,
            ticket,
            author,
            text,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn note_mention_insert(
        &mut self,
        note: i64,
        user: i64,
        ticket: i64,
    ) -> store::Result<()> {
        sqlx::query!(
            "insert into note_mentions (note_id, user_id, ticket_id) values (?, ?, ?)",
            note,
            user,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn notes_since(&mut self, ticket: i64, since: i64) -> store::Result<Vec<NoteRow>> {
        let rows = sqlx::query!(
            r#"select n.id as "id!", n.author_id, u.name as author_name, u.public_id,
                      n.text, n.created_at,
                      (select json_group_array(name) from
                         (select mu.name from note_mentions m join users mu on mu.id = m.user_id
                          where m.note_id = n.id order by mu.name collate nocase, mu.id))
                        as "mentions!: String"
               from notes n join users u on u.id = n.author_id
               where n.ticket_id = ? and n.created_at >= ?
               order by n.id"#,
            ticket,
            since
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(NoteRow {
                    id: r.id,
                    author_id: r.author_id,
                    author_name: r.author_name,
                    author_public_id: r.public_id,
                    text: r.text,
                    created_at: r.created_at,
                    mentions: serde_json::from_str(&r.mentions)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                })
            })
            .collect()
    }

    async fn note_unseen_mention(&mut self, user: i64, ticket: i64) -> store::Result<bool> {
        sqlx::query_scalar!(
            r#"select exists(select 1 from note_mentions
                             where user_id = ? and ticket_id = ? and seen_at is null)
                 as "unseen!: bool""#,
            user,
            ticket
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn note_mentions_seen(&mut self, user: i64, ticket: i64, now: i64) -> store::Result<u64> {
        let done = sqlx::query!(
            "update note_mentions set seen_at = ?
             where user_id = ? and ticket_id = ? and seen_at is null",
            now,
            user,
            ticket
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
