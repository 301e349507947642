//! How far each agent has read each ticket. The inbox's unread counts and the
//! conversation's "New messages" marker are computed from it (see `views` and
//! `conversation`); here it moves. Opening a ticket also marks the notes that
//! mention the viewer there as seen (the Mentions view's count).

use protocol::realtime::Change;

use crate::effects::Effects;
use crate::{Result, Services};

/// Marks everything in the ticket read for `viewer`, and tells their other devices.
pub async fn mark_read(services: &Services, viewer: i64, ticket: i64) -> Result<()> {
    let last = sqlx::query!(
        r#"select t.remote_id, (select max(m.id) from messages m where m.ticket_id = t.id)
                  as "last?: i64"
           from tickets t where t.id = ?"#,
        ticket
    )
    .fetch_optional(&services.db)
    .await?
    .ok_or(crate::Error::NotFound("ticket"))?;
    // Opening the ticket is seeing the notes that mention the viewer in it.
    let now = crate::clock::now_ms();
    let seen = sqlx::query!(
        "update note_mentions set seen_at = ? where user_id = ? and ticket_id = ? and seen_at is null",
        now,
        viewer,
        ticket
    )
    .execute(&services.db)
    .await?
    .rows_affected();
    let changed = match last.last {
        Some(message) => sqlx::query!(
            "insert into ticket_reads (user_id, ticket_id, last_read_message_id) values (?, ?, ?)
         on conflict (user_id, ticket_id) do update
             set last_read_message_id = excluded.last_read_message_id
             where excluded.last_read_message_id > ticket_reads.last_read_message_id",
            viewer,
            ticket,
            message
        )
        .execute(&services.db)
        .await?
        .rows_affected(),
        None => 0,
    };
    if changed + seen > 0 {
        let mut effects = Effects::new();
        effects.publish_to(
            viewer,
            Change::Unread {
                ticket: last.remote_id,
            },
        );
        services.apply(effects);
    }
    Ok(())
}
