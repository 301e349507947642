//! How far each agent has read each ticket. The inbox's unread counts and the
//! conversation's "New messages" marker are computed from it (see `views` and
//! `conversation`); here it moves.

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
    let Some(message) = last.last else {
        return Ok(());
    };
    let changed = sqlx::query!(
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
    .rows_affected();
    if changed > 0 {
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
