//! What Baton does for each of the five calls plus/hitl-api makes.
//!
//! Each operation's writes go through the group-commit writer (`db::writer`): they
//! run in their own savepoint, and the operation returns only once that batch is
//! committed, so a 2xx always means the data is stored. Background work (webhook
//! deliveries, Botpress API lookups, realtime events) starts only after the commit.

use serde_json::Value;
use sqlx::SqliteConnection;

use super::wire::{BotSendsMessage, CloseRemoteTicket, RemoteConversation, RemoteUser};
use crate::clock::now_ms;
use crate::realtime::{Change, TicketChange};
use crate::{Result, Services, connections, ids};

/// How long after an end notice a `closeRemoteTicket` is still attributed to it
/// (protocol §9.3: the plugin sends the notice, then closes, seconds apart).
pub const END_NOTICE_WINDOW_MS: i64 = 120_000;

/// Delay before asking the Botpress API about a new ticket: Botpress creates its
/// conversation only after our createRemoteConversation answer (protocol §9.2).
pub const SYNC_DELAY_MS: i64 = 3_000;

async fn touch(conn: &mut SqliteConnection, connection: i64, now: i64) -> Result<()> {
    sqlx::query!(
        "update connections set last_inbound_at = ? where id = ?",
        now,
        connection
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `/ping`: records that the bot can reach us.
pub async fn ping(services: &Services, connection: i64) -> Result<()> {
    let now = now_ms();
    services
        .writer
        .write(move |conn| Box::pin(touch(conn, connection, now)))
        .await
}

/// `/createRemoteUser`: the same email within a connection is the same customer
/// (protocol §4.3: duplicates happen after retries and re-links).
pub async fn create_remote_user(
    services: &Services,
    connection: i64,
    user: RemoteUser,
) -> Result<String> {
    let now = now_ms();
    let email = user
        .email
        .clone()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    services
        .writer
        .write(move |conn| Box::pin(store_customer(conn, connection, user, email, now)))
        .await
}

async fn store_customer(
    conn: &mut SqliteConnection,
    connection: i64,
    user: RemoteUser,
    email: Option<String>,
    now: i64,
) -> Result<String> {
    touch(conn, connection, now).await?;
    if let Some(email) = &email {
        let existing = sqlx::query_scalar!(
            "update customers
             set name = coalesce(?, name), picture_url = coalesce(?, picture_url), updated_at = ?
             where connection_id = ? and email = ?
             returning public_id",
            user.name,
            user.picture_url,
            now,
            connection,
            email
        )
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(public_id) = existing {
            return Ok(public_id);
        }
    }
    let public_id = ids::new_id(ids::CUSTOMER)?;
    sqlx::query!(
        "insert into customers
            (public_id, connection_id, name, email, picture_url, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?)",
        public_id,
        connection,
        user.name,
        email,
        user.picture_url,
        now,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(public_id)
}

/// `/createRemoteConversation`: a new queued ticket. The customer is not known yet; the
/// first message binds them (protocol §5).
pub async fn create_remote_conversation(
    services: &Services,
    connection: i64,
    conversation: RemoteConversation,
) -> Result<String> {
    let now = now_ms();
    let remote_id = ids::new_id(ids::TICKET)?;
    let title = conversation.title.unwrap_or_default();
    let description = conversation.description.unwrap_or_default();
    let ticket = NewTicket {
        remote_id: remote_id.clone(),
        title: title.clone(),
        description,
    };
    let can_sync = services
        .writer
        .write(move |conn| Box::pin(store_ticket(conn, connection, ticket, now)))
        .await?;
    if can_sync {
        services.sync.wake();
    }
    services.hub.publish(
        Change::TicketCreated {
            ticket: remote_id.clone(),
        },
        None,
    );
    crate::alerts::new_ticket(services, &remote_id, &title);
    Ok(remote_id)
}

struct NewTicket {
    remote_id: String,
    title: String,
    description: String,
}

/// Inserts the ticket; whether Botpress API credentials let us sync it later.
async fn store_ticket(
    conn: &mut SqliteConnection,
    connection: i64,
    ticket: NewTicket,
    now: i64,
) -> Result<bool> {
    let NewTicket {
        remote_id,
        title,
        description,
    } = ticket;
    touch(conn, connection, now).await?;
    let can_sync = connections::secrets(&mut *conn, connection)
        .await?
        .api_credentials()
        .is_some();
    let (sync_state, sync_next_at) = if can_sync {
        ("pending", Some(now + SYNC_DELAY_MS))
    } else {
        ("none", None)
    };
    sqlx::query!(
        "insert into tickets
            (connection_id, remote_id, title, description, created_at, updated_at,
             sync_state, sync_next_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)",
        connection,
        remote_id,
        title,
        description,
        now,
        now,
        sync_state,
        sync_next_at
    )
    .execute(&mut *conn)
    .await?;
    Ok(can_sync)
}

/// `/botSendsMessage`: stores the message whole. Never drops one: an unknown ticket id
/// becomes a recovered ticket, an unknown customer id a recovered customer.
pub async fn bot_sends_message(
    services: &Services,
    connection: i64,
    message: BotSendsMessage,
) -> Result<()> {
    message.validate()?;
    let now = now_ms();
    let remote_id = message.remote_conversation_id.clone();
    let stored = services
        .writer
        .write(move |conn| Box::pin(store_message(conn, connection, message, now)))
        .await?;
    services.outbox.wake();
    if stored.media {
        services.media.wake();
    }
    let hub = &services.hub;
    // The ticket is named by the id Botpress just sent (a recovered ticket keeps it
    // too), so the busiest endpoint publishes without another query.
    hub.publish(
        Change::MessageAdded {
            ticket: remote_id,
            message: stored.message,
            origin: stored.origin.to_owned(),
        },
        None,
    );
    if stored.reopened {
        hub.ticket(&services.db, stored.ticket, TicketChange::Assigned)
            .await;
    }
    if stored.ended {
        hub.ticket(&services.db, stored.ticket, TicketChange::Closed)
            .await;
    }
    Ok(())
}

/// What storing a message did, for the events that follow the commit.
struct StoredMessage {
    ticket: i64,
    message: i64,
    origin: &'static str,
    reopened: bool,
    ended: bool,
    /// It brought media to copy.
    media: bool,
}

async fn store_message(
    conn: &mut SqliteConnection,
    connection: i64,
    message: BotSendsMessage,
    now: i64,
) -> Result<StoredMessage> {
    touch(conn, connection, now).await?;
    let ticket = ticket_for_message(conn, connection, &message.remote_conversation_id, now).await?;
    let (origin, customer) = if message.is_from_bot() {
        ("system", None)
    } else {
        let customer = customer_for_message(conn, connection, &message.remote_user_id, now).await?;
        ("customer", Some(customer))
    };
    let kind = message.message_type().to_owned();
    let payload_value = Value::Object(message.payload.clone());
    let payload = payload_value.to_string();
    let message_id = sqlx::query_scalar!(
        r#"insert into messages (ticket_id, origin, type, payload, customer_id, created_at)
         values (?, ?, ?, ?, ?, ?)
         returning id as "id!""#,
        ticket,
        origin,
        kind,
        payload,
        customer,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let media =
        crate::media::queue_in(conn, ticket, message_id, &kind, &payload_value, now).await?;
    // The first message from the customer binds them to the ticket (protocol §11 #10).
    // Any message proves the Botpress session is live, which releases held webhook calls.
    sqlx::query!(
        "update tickets
         set customer_id = coalesce(customer_id, ?),
             first_inbound_at = coalesce(first_inbound_at, ?),
             updated_at = ?
         where id = ?",
        customer,
        now,
        now,
        ticket
    )
    .execute(&mut *conn)
    .await?;

    let reopened = !message.is_from_bot() && reopen_if_closed(conn, ticket, now).await?;
    let mut ended = false;
    if message.is_from_bot() && is_end_notice(conn, connection, &message).await? {
        ended = crate::tickets::close_in(conn, ticket, "customer_ended", now).await?;
        sqlx::query!(
            "update tickets set end_notice_at = ? where id = ?",
            now,
            ticket
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(StoredMessage {
        ticket,
        message: message_id,
        origin,
        reopened,
        ended,
        media,
    })
}

/// The customer wrote in a ticket we closed: Botpress still relays, so the session is
/// live on its side (a lost `/stop-hitl`, an abandoned ticket whose customer came
/// back). Back to the queue, where someone will see it, rather than unread in a closed
/// ticket.
async fn reopen_if_closed(conn: &mut SqliteConnection, ticket: i64, now: i64) -> Result<bool> {
    let reopened = sqlx::query!(
        "update tickets
         set status = 'queued', assignee_id = null, closed_at = null, closed_reason = null,
             updated_at = ?
         where id = ? and status = 'closed'",
        now,
        ticket
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if reopened > 0 {
        tracing::info!(ticket, "customer wrote in a closed ticket; reopened it");
        use crate::tickets::activity::{self, Action};
        activity::record_in(conn, ticket, None, Action::Reopened, None, now).await?;
        let remote = sqlx::query_scalar!("select remote_id from tickets where id = ?", ticket)
            .fetch_one(&mut *conn)
            .await?;
        let botpress = crate::accounts::Actor {
            id: None,
            label: "botpress".into(),
            ip: None,
        };
        crate::accounts::audit_in(
            conn,
            &botpress,
            Action::Reopened.audit_name(),
            serde_json::json!({ "ticket": remote }),
        )
        .await?;
    }
    Ok(reopened > 0)
}

async fn is_end_notice(
    conn: &mut SqliteConnection,
    connection: i64,
    message: &BotSendsMessage,
) -> Result<bool> {
    if message.message_type() != "text" {
        return Ok(false);
    }
    let Some(text) = message.payload.get("text").and_then(Value::as_str) else {
        return Ok(false);
    };
    let notice = sqlx::query_scalar!(
        "select end_notice_text from connections where id = ?",
        connection
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(text.trim() == notice.trim())
}

async fn ticket_for_message(
    conn: &mut SqliteConnection,
    connection: i64,
    remote_id: &str,
    now: i64,
) -> Result<i64> {
    let found = sqlx::query_scalar!(
        r#"select id as "id!" from tickets where connection_id = ? and remote_id = ?"#,
        connection,
        remote_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    // Botpress knows a conversation we do not (a restored backup, a deleted ticket, a
    // second Baton): keep the message in a ticket flagged for a person to look at.
    tracing::warn!(
        connection,
        remote_id,
        "message for an unknown ticket; recovering it"
    );
    let description = "Botpress sent a message for a conversation Baton did not know. \
                       The messages from then on are here.";
    Ok(sqlx::query_scalar!(
        r#"insert into tickets
            (connection_id, remote_id, title, description, recovered, created_at, updated_at)
         values (?, ?, 'Recovered conversation', ?, 1, ?, ?)
         returning id as "id!""#,
        connection,
        remote_id,
        description,
        now,
        now
    )
    .fetch_one(&mut *conn)
    .await?)
}

async fn customer_for_message(
    conn: &mut SqliteConnection,
    connection: i64,
    public_id: &str,
    now: i64,
) -> Result<i64> {
    let found = sqlx::query_scalar!(
        r#"select id as "id!" from customers where connection_id = ? and public_id = ?"#,
        connection,
        public_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    tracing::warn!(
        connection,
        public_id,
        "message from an unknown customer id; recovering it"
    );
    Ok(sqlx::query_scalar!(
        r#"insert into customers (public_id, connection_id, recovered, created_at, updated_at)
         values (?, ?, 1, ?, ?)
         returning id as "id!""#,
        public_id,
        connection,
        now,
        now
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// `/closeRemoteTicket`: always accepted. The request is stored, then mapped to a
/// ticket by what we already know, else by the Botpress API (in the background),
/// else by the end-notice heuristic; what stays unmapped is kept for admins.
pub async fn close_remote_ticket(
    services: &Services,
    connection: i64,
    request: CloseRemoteTicket,
) -> Result<()> {
    request.validate()?;
    let conversation = request.payload.botpress_conversation_id;
    let now = now_ms();
    let (wake_sync, closed) = services
        .writer
        .write(move |conn| Box::pin(store_close(conn, connection, conversation, now)))
        .await?;
    if wake_sync {
        services.sync.wake();
    }
    services.outbox.wake();
    if let Some(ticket) = closed {
        services
            .hub
            .ticket(&services.db, ticket, TicketChange::Closed)
            .await;
    }
    Ok(())
}

/// Stores the request and maps it if it can now; whether the sync worker should
/// look it up, and the ticket it closed.
async fn store_close(
    conn: &mut SqliteConnection,
    connection: i64,
    conversation: String,
    now: i64,
) -> Result<(bool, Option<i64>)> {
    touch(conn, connection, now).await?;
    let request_id = sqlx::query_scalar!(
        r#"insert into close_requests (connection_id, botpress_conversation_id, received_at)
         values (?, ?, ?)
         returning id as "id!""#,
        connection,
        conversation,
        now
    )
    .fetch_one(&mut *conn)
    .await?;

    let known = sqlx::query_scalar!(
        r#"select id as "id!" from tickets where connection_id = ? and botpress_conversation_id = ?"#,
        connection,
        conversation
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut wake_sync = false;
    let mut closed = None;
    if let Some(ticket) = known {
        super::mapping::resolve_in(conn, request_id, ticket, "known", now).await?;
        closed = Some(ticket);
    } else if connections::secrets(&mut *conn, connection)
        .await?
        .api_credentials()
        .is_some()
    {
        sqlx::query!(
            "update close_requests set next_attempt_at = ? where id = ?",
            now,
            request_id
        )
        .execute(&mut *conn)
        .await?;
        wake_sync = true;
    } else {
        closed = super::mapping::by_end_notice_in(conn, request_id, connection, now, now).await?;
    }
    Ok((wake_sync, closed))
}
