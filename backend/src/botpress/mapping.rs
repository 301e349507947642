//! Mapping a `closeRemoteTicket` (which carries only the Botpress conversation id) to
//! one of our tickets (protocol §9).

use sqlx::{Sqlite, Transaction};

use super::inbound::END_NOTICE_WINDOW_MS;
use crate::Result;

/// Marks `request` as mapped to `ticket`, remembers the Botpress conversation id on the
/// ticket for next time, and closes the ticket if it is still open.
pub async fn resolve_in(
    tx: &mut Transaction<'static, Sqlite>,
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
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query!(
        "update tickets set botpress_conversation_id = coalesce(botpress_conversation_id, ?)
         where id = ?",
        conversation,
        ticket
    )
    .execute(&mut **tx)
    .await?;
    crate::tickets::close_in(tx, ticket, "bot_closed", now).await?;
    Ok(())
}

/// The fallback heuristic (protocol §9.3): the plugin posts its end notice to a ticket
/// seconds before it sends closeRemoteTicket. Maps to the most recent such ticket
/// that has no Botpress conversation id yet; otherwise marks the request unmapped.
pub async fn by_end_notice_in(
    tx: &mut Transaction<'static, Sqlite>,
    request: i64,
    connection: i64,
    now: i64,
) -> Result<bool> {
    let since = now - END_NOTICE_WINDOW_MS;
    let candidate = sqlx::query_scalar!(
        r#"select id as "id!" from tickets
         where connection_id = ? and end_notice_at >= ? and botpress_conversation_id is null
         order by end_notice_at desc, id desc
         limit 1"#,
        connection,
        since
    )
    .fetch_optional(&mut **tx)
    .await?;
    match candidate {
        Some(ticket) => {
            resolve_in(tx, request, ticket, "end_notice", now).await?;
            Ok(true)
        }
        None => {
            sqlx::query!(
                "update close_requests set state = 'unmapped', next_attempt_at = null
                 where id = ?",
                request
            )
            .execute(&mut **tx)
            .await?;
            Ok(false)
        }
    }
}
