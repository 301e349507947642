//! Mapping a `closeRemoteTicket` (which carries only the Botpress conversation id) to
//! one of our tickets (docs/botpress.md §9).

use protocol::ticket::ClosedReason;
use store::inbound::MappedBy;

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
pub async fn resolve(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    request: i64,
    ticket: i64,
    by: MappedBy,
    now: i64,
) -> Result<()> {
    let conversation = tx.close_request_map(request, ticket, by).await?;
    // Remember the id for next time, unless another ticket already holds it (then the
    // earlier mapping stands; a unique index guards it).
    tx.ticket_remember_conversation(ticket, &conversation)
        .await?;
    lifecycle::close(tx, effects, ticket, ClosedReason::BotClosed, now).await?;
    Ok(())
}

/// The fallback heuristic (docs/botpress.md §9.3): the plugin posts its end notice to a ticket
/// seconds before it sends that ticket's closeRemoteTicket. Maps the request to the
/// oldest ticket whose notice came in the window before the request *arrived* (not
/// before now: the API may have been tried for minutes first) and that has no Botpress
/// conversation id yet (and returns it); otherwise marks the request unmapped. Oldest first, so that
/// interleaved endings (notice A, notice B, close A, close B) pair up correctly.
pub async fn by_end_notice(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    request: i64,
    connection: i64,
    received_at: i64,
    now: i64,
) -> Result<Option<i64>> {
    let since = received_at - END_NOTICE_WINDOW_MS;
    let until = received_at + END_NOTICE_SLACK_MS;
    match tx.ticket_by_end_notice(connection, since, until).await? {
        Some(ticket) => {
            resolve(tx, effects, request, ticket, MappedBy::EndNotice, now).await?;
            Ok(Some(ticket))
        }
        None => {
            tx.close_request_unmapped(request).await?;
            Ok(None)
        }
    }
}
