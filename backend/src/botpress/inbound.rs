//! What Baton does for each of the five calls plus/hitl-api makes.
//!
//! Each operation's writes go through the group-commit writer (`db::writer`): they
//! run in their own savepoint, and the operation returns only once that batch is
//! committed, so a 2xx always means the data is stored. Each operation returns its
//! effects (webhook deliveries, Botpress API lookups, realtime events), applied only
//! after the commit.

use protocol::realtime::Change;
use protocol::ticket::{ClosedReason, Origin, Status};
use serde_json::Value;
use sqlx::SqliteConnection;

use super::wire::{BotSendsMessage, CloseRemoteTicket, RemoteConversation, RemoteUser};
use crate::clock::now_ms;
use crate::effects::{Effects, NewTicket, Worker};
use crate::tickets::lifecycle;
use crate::{Result, Services, connections, ids};

/// Delay before asking the Botpress API about a new ticket: Botpress creates its
/// conversation only after our createRemoteConversation answer (docs/botpress.md §9.2).
pub const SYNC_DELAY_MS: i64 = 3_000;

/// Records when the bot last reached us. At most once a second per connection: the
/// admin page shows it to the second, and under load the writes of one batch then
/// change the row once instead of once per message.
async fn touch(conn: &mut SqliteConnection, connection: i64, now: i64) -> Result<()> {
    sqlx::query!(
        "update connections set last_inbound_at = ?1
         where id = ?2 and (last_inbound_at is null or last_inbound_at <= ?1 - 1000)",
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
/// (docs/botpress.md §4.3: duplicates happen after retries and re-links).
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
             set name = case when edited_at is null then coalesce(?, name) else name end,
                 picture_url = coalesce(?, picture_url), updated_at = ?
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
/// first message binds them (docs/botpress.md §5).
pub async fn create_remote_conversation(
    services: &Services,
    connection: i64,
    conversation: RemoteConversation,
) -> Result<String> {
    let now = now_ms();
    let remote_id = ids::new_id(ids::TICKET)?;
    let title = conversation.title.unwrap_or_default();
    let description = conversation.description.unwrap_or_default();
    let ticket = Created {
        remote_id: remote_id.clone(),
        title,
        description,
    };
    let effects = services
        .writer
        .write(move |conn| Box::pin(store_ticket(conn, connection, ticket, now)))
        .await?;
    services.apply(effects);
    Ok(remote_id)
}

struct Created {
    remote_id: String,
    title: String,
    description: String,
}

/// Inserts the ticket; its effects: the event, the alert, and a Botpress API sync
/// when the connection has credentials for one.
async fn store_ticket(
    conn: &mut SqliteConnection,
    connection: i64,
    ticket: Created,
    now: i64,
) -> Result<Effects> {
    let Created {
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
    let mut effects = Effects::new();
    if can_sync {
        effects.wake(Worker::Sync);
    }
    effects.publish(Change::TicketCreated {
        ticket: remote_id.clone(),
    });
    effects.alert(NewTicket {
        ticket: remote_id,
        title,
    });
    Ok(effects)
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
    let effects = services
        .writer
        .write(move |conn| Box::pin(store_message(conn, connection, message, now)))
        .await?;
    services.apply(effects);
    Ok(())
}

async fn store_message(
    conn: &mut SqliteConnection,
    connection: i64,
    message: BotSendsMessage,
    now: i64,
) -> Result<Effects> {
    let mut effects = Effects::new();
    touch(conn, connection, now).await?;
    let ticket = ticket_for_message(conn, connection, &message.remote_conversation_id, now).await?;
    let (origin, customer) = if message.is_from_bot() {
        (Origin::System, None)
    } else {
        let customer = customer_for_message(conn, connection, &message.remote_user_id, now).await?;
        (Origin::Customer, Some(customer))
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
    // The ticket is named by the id Botpress just sent (a recovered ticket keeps it
    // too), so the busiest endpoint needs no query for its event.
    effects.publish(Change::MessageAdded {
        ticket: message.remote_conversation_id.clone(),
        message: message_id,
        origin,
    });
    crate::media::queue_in(
        conn,
        &mut effects,
        ticket,
        message_id,
        &kind,
        &payload_value,
        now,
    )
    .await?;
    // The first message from the customer binds them to the ticket (docs/botpress.md §11 #10).
    // Any message proves the Botpress session is live, which releases held webhook calls.
    // Returns the status, so that the common case (an open ticket) costs no second
    // statement for the reopen check below: every statement is a round trip on the
    // one writer connection, which all Botpress writes share.
    let status = sqlx::query_scalar!(
        r#"update tickets
         set customer_id = coalesce(customer_id, ?),
             first_inbound_at = coalesce(first_inbound_at, ?),
             updated_at = ?
         where id = ?
         returning status as "status: Status""#,
        customer,
        now,
        now,
        ticket
    )
    .fetch_one(&mut *conn)
    .await?;

    // A message releases calls held until Botpress had the session.
    effects.wake(Worker::Outbox);
    if !message.is_from_bot() && status == Status::Closed {
        lifecycle::reopen_in(conn, &mut effects, ticket, now).await?;
    }
    if message.is_from_bot() && is_end_notice(conn, connection, &message).await? {
        lifecycle::close_in(conn, &mut effects, ticket, ClosedReason::CustomerEnded, now).await?;
        sqlx::query!(
            "update tickets set end_notice_at = ? where id = ?",
            now,
            ticket
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(effects)
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
    let effects = services
        .writer
        .write(move |conn| Box::pin(store_close(conn, connection, conversation, now)))
        .await?;
    services.apply(effects);
    Ok(())
}

/// Stores the request and maps it if it can now, else asks the sync worker to look
/// it up.
async fn store_close(
    conn: &mut SqliteConnection,
    connection: i64,
    conversation: String,
    now: i64,
) -> Result<Effects> {
    let mut effects = Effects::new();
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
    if let Some(ticket) = known {
        super::mapping::resolve_in(conn, &mut effects, request_id, ticket, "known", now).await?;
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
        effects.wake(Worker::Sync);
    } else {
        super::mapping::by_end_notice_in(conn, &mut effects, request_id, connection, now, now)
            .await?;
    }
    Ok(effects)
}
