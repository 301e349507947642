use protocol::ticket::Status;
use store::search::{Among, Filters, HitRow, MARK_END, MARK_START, SNIPPET_WORDS, Search};

use crate::SqliteTx;

/// The FTS5 expression for some words: each quoted (so nothing in it is FTS5
/// syntax) and a prefix; all of them must match.
fn expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs one search query; each repeats the same ticket filters (`t`), as sqlx
/// checks whole statements.
macro_rules! hits {
    ($tx:expr, $sql:tt, $expression:expr, $f:expr, $most:expr, $viewer:expr) => {{
        let (start, end) = (MARK_START.to_string(), MARK_END.to_string());
        let status = $f.status.map(Status::as_str);
        sqlx::query_as!(
            HitRow,
            $sql,
            $expression,
            start,
            end,
            SNIPPET_WORDS,
            status,
            $f.label,
            $f.agent,
            $f.connection,
            $f.from,
            $f.until,
            $most,
            $viewer
        )
        .fetch_all(&mut *$tx)
        .await
    }};
}

#[async_trait::async_trait]
impl<C: crate::Conn> Search for SqliteTx<C> {
    async fn search_backlog(&mut self) -> store::Result<bool> {
        let r = sqlx::query!(
            r#"select p.last_message_id as "done!: i64",
                      (select max(id) from messages) as "newest?: i64"
               from search_progress p where p.id = 1"#
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(r.newest.unwrap_or(0) > r.done)
    }

    async fn search_index(&mut self, most: i64) -> store::Result<i64> {
        let done = sqlx::query_scalar!("select last_message_id from search_progress where id = 1")
            .fetch_one(&mut *self.tx)
            .await?;
        let until = sqlx::query_scalar!(
            r#"select max(id) as "until: i64" from
               (select id from messages where id > ? order by id limit ?)"#,
            done,
            most
        )
        .fetch_one(&mut *self.tx)
        .await?;
        let Some(until) = until else {
            return Ok(0);
        };
        let indexed = sqlx::query!(
            "insert into search_messages (rowid, body)
             select id, body from message_search_text where id > ? and id <= ?",
            done,
            until
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        sqlx::query!(
            "update search_progress set last_message_id = ? where id = 1",
            until
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(indexed as i64)
    }

    async fn search(
        &mut self,
        among: Among,
        words: &[String],
        f: &Filters,
        viewer: i64,
        most: i64,
    ) -> store::Result<Vec<HitRow>> {
        let expression = expression(words);
        let tx = &mut *self.tx;
        match among {
            Among::Customers => hits!(
                tx,
                r#"select c.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null as "author?: String",
                          c.created_at as at,
                          snippet(search_customers, -1, ?2, ?3, '…', ?4) as "snippet!: String"
                   from search_customers s
                   join customers c on c.id = s.rowid
                   join tickets t on t.id = (
                       select t2.id from tickets t2
                       where t2.customer_id = c.id
                         and (?5 is null or t2.status = ?5)
                         and (?6 is null or exists (select 1 from ticket_labels l
                                                    where l.ticket_id = t2.id and l.label_id = ?6))
                         and (?7 is null or t2.assignee_id = ?7)
                         and (?8 is null or t2.connection_id = ?8)
                         and (?9 is null or t2.created_at >= ?9)
                         and (?10 is null or t2.created_at < ?10)
                         and t2.connection_id in (select connection_id from visible_connections
                                                  where user_id = ?12)
                       order by t2.created_at desc, t2.id desc limit 1)
                   where search_customers match ?1
                   order by s.rowid desc limit ?11"#,
                expression,
                f,
                most,
                viewer
            ),
            Among::Tickets => hits!(
                tx,
                r#"select t.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null as "author?: String",
                          t.created_at as at,
                          snippet(search_tickets, -1, ?2, ?3, '…', ?4) as "snippet!: String"
                   from search_tickets s
                   join tickets t on t.id = s.rowid
                   left join customers c on c.id = t.customer_id
                   where search_tickets match ?1
                     and (?5 is null or t.status = ?5)
                     and (?6 is null or exists (select 1 from ticket_labels l
                                                where l.ticket_id = t.id and l.label_id = ?6))
                     and (?7 is null or t.assignee_id = ?7)
                     and (?8 is null or t.connection_id = ?8)
                     and (?9 is null or t.created_at >= ?9)
                     and (?10 is null or t.created_at < ?10)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = ?12)
                   order by s.rowid desc limit ?11"#,
                expression,
                f,
                most,
                viewer
            ),
            Among::Messages => hits!(
                tx,
                r#"select m.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          coalesce(m.sent_at, m.created_at) as "at!: i64",
                          snippet(search_messages, 0, ?2, ?3, '…', ?4) as "snippet!: String"
                   from search_messages s
                   join messages m on m.id = s.rowid
                   join tickets t on t.id = m.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = m.author_id
                   where search_messages match ?1
                     and (?5 is null or t.status = ?5)
                     and (?6 is null or exists (select 1 from ticket_labels l
                                                where l.ticket_id = t.id and l.label_id = ?6))
                     and (?7 is null or t.assignee_id = ?7)
                     and (?8 is null or t.connection_id = ?8)
                     and (?9 is null or t.created_at >= ?9)
                     and (?10 is null or t.created_at < ?10)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = ?12)
                   order by s.rowid desc limit ?11"#,
                expression,
                f,
                most,
                viewer
            ),
            Among::Notes => hits!(
                tx,
                r#"select n.id as "id!", t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          n.created_at as at,
                          snippet(search_notes, 0, ?2, ?3, '…', ?4) as "snippet!: String"
                   from search_notes s
                   join notes n on n.id = s.rowid
                   join tickets t on t.id = n.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = n.author_id
                   where search_notes match ?1
                     and (?5 is null or t.status = ?5)
                     and (?6 is null or exists (select 1 from ticket_labels l
                                                where l.ticket_id = t.id and l.label_id = ?6))
                     and (?7 is null or t.assignee_id = ?7)
                     and (?8 is null or t.connection_id = ?8)
                     and (?9 is null or t.created_at >= ?9)
                     and (?10 is null or t.created_at < ?10)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = ?12)
                   order by s.rowid desc limit ?11"#,
                expression,
                f,
                most,
                viewer
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_become_quoted_prefixes() {
        let words = |w: &[&str]| w.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        assert_eq!(super::expression(&words(&["refund"])), r#""refund"*"#);
        // FTS5 syntax is only ever words here.
        assert_eq!(
            super::expression(&words(&["NOT", "x", "OR"])),
            r#""NOT"* "x"* "OR"*"#
        );
    }
}
