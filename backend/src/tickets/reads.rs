//! How far each agent has read each ticket. The inbox's unread counts and the
//! conversation's "New messages" marker are computed from it (see `views` and
//! `conversation`); here it moves. Opening a ticket also marks the notes that
//! mention the viewer there as seen (the Mentions view's count).

use protocol::realtime::Change;

use crate::effects::Effects;
use crate::{Result, Services};

/// Marks everything in the ticket read for `viewer`, and tells their other devices.
pub async fn mark_read(services: &Services, viewer: i64, ticket: i64) -> Result<()> {
    let mut tx = services.store.write().await?;
    let (remote_id, last) = tx
        .ticket_last_message(ticket)
        .await?
        .ok_or(crate::Error::NotFound("ticket"))?;
    // Opening the ticket is seeing the notes that mention the viewer in it.
    let now = crate::clock::now_ms();
    let seen = tx.note_mentions_seen(viewer, ticket, now).await?;
    let changed = match last {
        Some(message) => u64::from(tx.ticket_read_up_to(viewer, ticket, message).await?),
        None => 0,
    };
    tx.commit().await?;
    if changed + seen > 0 {
        let mut effects = Effects::new();
        effects.publish_to(viewer, Change::Unread { ticket: remote_id });
        services.apply(effects);
    }
    Ok(())
}
