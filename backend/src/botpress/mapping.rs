//! Mapping a `closeRemoteTicket` (which carries only the Botpress conversation id) to
//! one of our tickets (docs/botpress.md §9).

use protocol::ticket::ClosedReason;
use sqlx::SqliteConnection;

use crate::Result;
use crate::effects::Effects;
use crate::tickets::lifecycle;

/// How long after an end notice a `closeRemoteTicket` is still attributed to it
/// (docs/botpress.md §9.3: the plugin sends the notice, then closes, seconds apart).
pub const END_NOTICE_WINDOW_MS: i64 = 120_000;

/// Requests that raced ahead of their notice (concurrent deliveries) still pair up.
const END_NOTICE_SLACK_MS: i64 = 10_000;

/// Marks `request` as mapped to `ticket`, remembers the Botpress conversation id on the
/// ticket for next time, and closes the ticket if it is still open.
pub async fn resolve_in(
    conn: &mut SqliteConnection,
    effects: &mut Effects,
    request: i64,
    ticket: i64,
    mapped_by: &str,
    now: i64,
) -> Result<()> {
    let conversation = sqlx::query_scalar!(
        "update close_requests set state = 'mapped', ticket_id = ?, mapped_by = ?,
                last_error = null, next_attempt_at = null
         where id = ?
         returning botpress_conversation_id",
        ticket,
        mapped_by,
        request
    )
    .fetch_one(&mut *conn)
    .await?;
    // Remember the id for next time, unless another ticket already holds it (then the
    // earlier mapping stands; a unique index guards it).
    sqlx::query!(
        "update tickets set botpress_conversation_id = coalesce(botpress_conversation_id, ?1)
         where id = ?2
           and not exists (select 1 from tickets o
                           where o.connection_id = tickets.connection_id
                             and o.botpress_conversation_id = ?1 and o.id != ?2)",
        conversation,
        ticket
    )
    .execute(&mut *conn)
    .await?;
    lifecycle::close_in(conn, effects, ticket, ClosedReason::BotClosed, now).await?;
    Ok(())
}

/// The fallback heuristic (docs/botpress.md §9.3): the plugin posts its end notice to a ticket
/// seconds before it sends that ticket's closeRemoteTicket. Maps the request to the
/// oldest ticket whose notice came in the window before the request *arrived* (not
/// before now: the API may have been tried for minutes first) and that has no Botpress
/// conversation id yet (and returns it); otherwise marks the request unmapped. Oldest first, so that
/// interleaved endings (notice A, notice B, close A, close B) pair up correctly.
pub async fn by_end_notice_in(
    conn: &mut SqliteConnection,
    effects: &mut Effects,
    request: i64,
    connection: i64,
    received_at: i64,
    now: i64,
) -> Result<Option<i64>> {
    let since = received_at - END_NOTICE_WINDOW_MS;
    let until = received_at + END_NOTICE_SLACK_MS;
    let candidate = sqlx::query_scalar!(
        r#"select id as "id!" from tickets
         where connection_id = ? and end_notice_at between ? and ?
           and botpress_conversation_id is null
         order by end_notice_at, id
         limit 1"#,
        connection,
        since,
        until
    )
    .fetch_optional(&mut *conn)
    .await?;
    match candidate {
        Some(ticket) => {
            resolve_in(conn, effects, request, ticket, "end_notice", now).await?;
            Ok(Some(ticket))
        }
        None => {
            sqlx::query!(
                "update close_requests set state = 'unmapped', next_attempt_at = null
                 where id = ?",
                request
            )
            .execute(&mut *conn)
            .await?;
            Ok(None)
        }
    }
}
