use protocol::ticket::{ClosedReason, Delivery, Origin, Priority, Status};
use store::views::{
    ExportRow, Facts, ListRow, MessageRow, OtherTicket, TicketRow, View, ViewCounts, Views,
};

use crate::SqliteTx;

/// Runs a page query whose rows are `key` and `id`.
macro_rules! keyed {
    ($tx:expr, $query:expr) => {
        $query
            .fetch_all(&mut *$tx)
            .await?
            .into_iter()
            .map(|r| (r.key, r.id))
            .collect()
    };
}

#[async_trait::async_trait]
impl<C: crate::Conn> Views for SqliteTx<C> {
    async fn view_page(
        &mut self,
        view: View,
        viewer: i64,
        label: Option<i64>,
        (k, i): (i64, i64),
        limit: i64,
    ) -> store::Result<Vec<(i64, i64)>> {
        let tx = &mut *self.tx;
        // One index-backed query per view; with a label, its index narrows first
        // (labels are few per ticket), and the views in arrival order share one query.
        Ok(match (view, label) {
            (View::Queued, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select created_at as "key!", id as "id!" from tickets
                       where status = 'queued' and (created_at, id) > (?, ?)
                         and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by created_at, id limit ?"#,
                    k,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::Mine, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select created_at as "key!", id as "id!" from tickets
                       where assignee_id = ? and status = 'assigned' and (created_at, id) > (?, ?)
                       order by created_at, id limit ?"#,
                    viewer,
                    k,
                    i,
                    limit
                )
            ),
            (View::Assigned, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select created_at as "key!", id as "id!" from tickets
                       where status = 'assigned' and (created_at, id) > (?, ?)
                         and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by created_at, id limit ?"#,
                    k,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::Open, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select created_at as "key!", id as "id!" from tickets
                       where status != 'closed' and (created_at, id) > (?, ?)
                         and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by created_at, id limit ?"#,
                    k,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::All, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select id as "key!", id as "id!" from tickets
                       where id > ? and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by id limit ?"#,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::Closed, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select closed_at as "key!", id as "id!" from tickets
                       where status = 'closed' and (closed_at, id) < (?, ?)
                         and connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by closed_at desc, id desc limit ?"#,
                    k,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::Mentions, None) => keyed!(
                tx,
                sqlx::query!(
                    r#"select max(m.note_id) as "key!: i64", m.ticket_id as "id!: i64"
                       from note_mentions m join tickets t on t.id = m.ticket_id
                       where m.user_id = ?1
                         and (t.assignee_id = ?1
                              or t.connection_id in (select connection_id from visible_connections
                                                     where user_id = ?1))
                       group by m.ticket_id
                       having (max(m.note_id), m.ticket_id) < (?2, ?3)
                       order by 1 desc, 2 desc limit ?4"#,
                    viewer,
                    k,
                    i,
                    limit
                )
            ),
            (View::Closed, Some(label)) => keyed!(
                tx,
                sqlx::query!(
                    r#"select t.closed_at as "key!", t.id as "id!"
                       from ticket_labels tl join tickets t on t.id = tl.ticket_id
                       where tl.label_id = ? and t.status = 'closed'
                         and (t.closed_at, t.id) < (?, ?)
                         and t.connection_id in (select connection_id from visible_connections where user_id = ?)
                       order by t.closed_at desc, t.id desc limit ?"#,
                    label,
                    k,
                    i,
                    viewer,
                    limit
                )
            ),
            (View::Mentions, Some(label)) => keyed!(
                tx,
                sqlx::query!(
                    r#"select max(m.note_id) as "key!: i64", m.ticket_id as "id!: i64"
                       from note_mentions m
                       join ticket_labels tl on tl.ticket_id = m.ticket_id and tl.label_id = ?1
                       join tickets t on t.id = m.ticket_id
                       where m.user_id = ?2
                         and (t.assignee_id = ?2
                              or t.connection_id in (select connection_id from visible_connections
                                                     where user_id = ?2))
                       group by m.ticket_id
                       having (max(m.note_id), m.ticket_id) < (?3, ?4)
                       order by 1 desc, 2 desc limit ?5"#,
                    label,
                    viewer,
                    k,
                    i,
                    limit
                )
            ),
            (ascending, Some(label)) => {
                let rule = rule(ascending);
                keyed!(
                    tx,
                    sqlx::query!(
                        r#"select t.created_at as "key!", t.id as "id!"
                           from ticket_labels tl join tickets t on t.id = tl.ticket_id
                           where tl.label_id = ?1
                             and case ?2
                                   when 'queued' then t.status = 'queued'
                                   when 'mine' then t.status = 'assigned' and t.assignee_id = ?3
                                   when 'assigned' then t.status = 'assigned'
                                   when 'open' then t.status != 'closed'
                                   else 1
                                 end
                             and (t.created_at, t.id) > (?4, ?5)
                             and t.connection_id in (select connection_id from visible_connections
                                                     where user_id = ?3)
                           order by t.created_at, t.id limit ?6"#,
                        label,
                        rule,
                        viewer,
                        k,
                        i,
                        limit
                    )
                )
            }
        })
    }

    async fn view_rows(&mut self, viewer: i64, tickets: &[i64]) -> store::Result<Vec<ListRow>> {
        // SQLite has no arrays: the ids travel as one JSON list.
        let ids = crate::json_list(tickets)?;
        sqlx::query_as!(
            ListRow,
            r#"select t.id as "id!", t.remote_id, t.title, t.description,
                      t.status as "status: Status", c.name as connection,
                      cu.name as customer_name, cu.email as customer_email,
                      t.assignee_id, u.name as "assignee_name?", u.public_id as "assignee_public_id?",
                      t.created_at, t.closed_at,
                      m.origin as "last_origin?: Origin", m.type as "last_type?",
                      m.payload as "last_payload?", m.created_at as "last_at?",
                      (select count(*) from messages x
                        where x.ticket_id = t.id and x.origin = 'customer'
                          and x.id > coalesce((select r.last_read_message_id from ticket_reads r
                                               where r.user_id = ? and r.ticket_id = t.id), 0)
                      ) as "unread!: i64",
                      t.priority as "priority?: Priority", tm.name as "team?"
               from tickets t
               join connections c on c.id = t.connection_id
               left join customers cu on cu.id = t.customer_id
               left join users u on u.id = t.assignee_id
               left join teams tm on tm.id = t.team_id
               left join messages m on m.id = (select max(id) from messages
                                               where ticket_id = t.id
                                                 and origin in ('customer', 'agent', 'system'))
               where t.id in (select value from json_each(?))"#,
            viewer,
            ids
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn view_counts(&mut self, viewer: i64) -> store::Result<ViewCounts> {
        sqlx::query_as!(
            ViewCounts,
            r#"select
                 (select count(*) from tickets where status = 'queued'
                   and connection_id in (select connection_id from visible_connections
                                         where user_id = ?1)) as "queued!: i64",
                 (select count(*) from tickets where assignee_id = ?1 and status = 'assigned') as "mine!: i64",
                 (select count(*) from tickets where status in ('queued', 'assigned')
                   and connection_id in (select connection_id from visible_connections
                                         where user_id = ?1)) as "open!: i64",
                 (select count(*) from tickets where status = 'closed'
                   and connection_id in (select connection_id from visible_connections
                                         where user_id = ?1)) as "closed!: i64",
                 (select count(distinct m.ticket_id) from note_mentions m
                   join tickets t on t.id = m.ticket_id
                   where m.user_id = ?1 and m.seen_at is null
                     and (t.assignee_id = ?1
                          or t.connection_id in (select connection_id from visible_connections
                                                 where user_id = ?1))) as "mentions!: i64""#,
            viewer
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn queued_before(
        &mut self,
        viewer: i64,
        cutoff: i64,
        limit: i64,
    ) -> store::Result<Vec<String>> {
        sqlx::query_scalar!(
            "select remote_id from tickets where status = 'queued' and created_at < ?
               and connection_id in (select connection_id from visible_connections where user_id = ?)
             order by created_at, id limit ?",
            cutoff,
            viewer,
            limit
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn tickets_by_remote_id(
        &mut self,
        viewer: i64,
        remote_id: &str,
    ) -> store::Result<Vec<i64>> {
        sqlx::query_scalar!(
            r#"select id as "id!" from tickets where remote_id = ?1
                 and (assignee_id = ?2
                      or connection_id in (select connection_id from visible_connections
                                           where user_id = ?2))
               limit 2"#,
            remote_id,
            viewer
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_get(&mut self, id: i64) -> store::Result<Option<TicketRow>> {
        sqlx::query_as!(
            TicketRow,
            r#"select id as "id!", connection_id, remote_id, customer_id, title, description,
                      status as "status: Status", assignee_id, recovered as "recovered: bool",
                      botpress_conversation_id, created_at, closed_at,
                      closed_reason as "closed_reason: ClosedReason",
                      priority as "priority: Priority",
                      (select name from teams where teams.id = tickets.team_id) as "team?"
               from tickets where id = ?"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_messages(&mut self, ticket: i64) -> store::Result<Vec<MessageRow>> {
        sqlx::query_as!(
            MessageRow,
            r#"select m.id as "id!", m.origin as "origin: Origin", m.type as kind, m.payload,
                      u.name as "author_name?", m.delivery as "delivery: Delivery", m.delivery_error,
                      coalesce(m.sent_at, m.created_at) as "at!: i64"
               from messages m left join users u on u.id = m.author_id
               where m.ticket_id = ?
               order by (m.origin like 'transcript%') desc,
                        case when m.origin like 'transcript%' then coalesce(m.sent_at, m.created_at) end,
                        m.id"#,
            ticket
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_latest_messages(
        &mut self,
        ticket: i64,
        count: i64,
    ) -> store::Result<Vec<MessageRow>> {
        sqlx::query_as!(
            MessageRow,
            r#"select m.id as "id!", m.origin as "origin: Origin", m.type as kind, m.payload,
                      u.name as "author_name?", m.delivery as "delivery: Delivery", m.delivery_error,
                      coalesce(m.sent_at, m.created_at) as "at!: i64"
               from messages m left join users u on u.id = m.author_id
               where m.ticket_id = ?
               order by (m.origin like 'transcript%') asc,
                        case when m.origin like 'transcript%' then coalesce(m.sent_at, m.created_at) end desc,
                        m.id desc
               limit ?"#,
            ticket,
            count
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn ticket_message_count(&mut self, ticket: i64) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "n!: i64" from messages where ticket_id = ?"#,
            ticket
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn messages_from_message(
        &mut self,
        ticket: i64,
        message: i64,
    ) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select count(m.id) as "n!: i64"
               from messages a join messages m on m.ticket_id = a.ticket_id
               where a.id = ?1 and a.ticket_id = ?2
                 and case when a.origin like 'transcript%'
                     then m.origin not like 'transcript%'
                          or (coalesce(m.sent_at, m.created_at), m.id)
                             >= (coalesce(a.sent_at, a.created_at), a.id)
                     else m.origin not like 'transcript%' and m.id >= a.id end
               group by a.id"#,
            message,
            ticket
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn messages_from_note(&mut self, ticket: i64, note: i64) -> store::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"select count(m.id) as "n!: i64"
               from notes n left join messages m
                 on m.ticket_id = n.ticket_id and m.origin not like 'transcript%'
                    and m.created_at >= n.created_at
               where n.id = ?1 and n.ticket_id = ?2
               group by n.id"#,
            note,
            ticket
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn ticket_facts(&mut self, viewer: i64, ticket: i64) -> store::Result<Option<Facts>> {
        sqlx::query_as!(
            Facts,
            r#"select t.closed_reason as "closed_reason: ClosedReason", t.customer_id,
                      cu.public_id as "public_id?", cu.name as "name?", cu.email as "email?",
                      cu.picture_url as "picture_url?", cu.phone as "phone?", cu.company as "company?",
                      (select min(m.created_at) from messages m
                        where m.ticket_id = t.id and m.origin = 'customer'
                          and m.id > coalesce((select max(a.id) from messages a
                                               where a.ticket_id = t.id and a.origin = 'agent'), 0))
                        as "unanswered_since?: i64",
                      (select r.last_read_message_id from ticket_reads r
                        where r.user_id = ? and r.ticket_id = t.id) as "last_read?: i64"
               from tickets t left join customers cu on cu.id = t.customer_id
               where t.id = ?"#,
            viewer,
            ticket
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn customer_other_tickets(
        &mut self,
        viewer: i64,
        customer: i64,
        except: i64,
        most: i64,
    ) -> store::Result<Vec<OtherTicket>> {
        sqlx::query_as!(
            OtherTicket,
            r#"select remote_id, title, status as "status: Status", created_at from tickets
               where customer_id = ?1 and id != ?2
                 and (assignee_id = ?3
                      or connection_id in (select connection_id from visible_connections
                                           where user_id = ?3))
               order by created_at desc, id desc limit ?4"#,
            customer,
            except,
            viewer,
            most
        )
        .fetch_all(&mut *self.tx)
        .await
    }

    async fn export_rows(
        &mut self,
        from: i64,
        to: i64,
        after: i64,
        limit: i64,
    ) -> store::Result<Vec<ExportRow>> {
        sqlx::query_as!(
            ExportRow,
            r#"select t.id as "id!", t.remote_id, t.status as "status: Status", t.title,
                      c.name as bot, cu.name as "customer_name?", cu.email as "customer_email?",
                      u.name as "agent?", t.created_at, t.closed_at,
                      t.closed_reason as "closed_reason: ClosedReason",
                      (select count(*) from messages m where m.ticket_id = t.id) as "messages!: i64",
                      (select group_concat(l.name, '; ' order by l.name collate nocase)
                         from ticket_labels tl join labels l on l.id = tl.label_id
                         where tl.ticket_id = t.id) as "labels?: String"
               from tickets t
               join connections c on c.id = t.connection_id
               left join customers cu on cu.id = t.customer_id
               left join users u on u.id = t.assignee_id
               where t.created_at >= ? and t.created_at < ? and t.id > ?
               order by t.id limit ?"#,
            from,
            to,
            after,
            limit
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}

/// The arrival-order views' rule, as the labelled query's `case` names it.
fn rule(view: View) -> &'static str {
    match view {
        View::Queued => "queued",
        View::Mine => "mine",
        View::Assigned => "assigned",
        View::Open => "open",
        View::All | View::Closed | View::Mentions => "all",
    }
}
