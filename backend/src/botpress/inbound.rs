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

/// One inbound call: which bot, and when.
#[derive(Clone, Copy)]
struct Call {
    connection: i64,
    now: i64,
    /// Whether this call writes `last_inbound_at` (see `touch`).
    record_contact: bool,
}

impl Call {
    fn new(services: &Services, connection: i64) -> Self {
        let now = now_ms();
        Self {
            connection,
            now,
            record_contact: services.last_contact.due(connection, now),
        }
    }

    /// Records when the bot last reached us, at most once a second per connection:
    /// the admin page shows it to the second, and a skipped statement is one round
    /// trip less on the writer's connection, which every Botpress write waits for.
    async fn touch(self, conn: &mut SqliteConnection) -> Result<()> {
        if !self.record_contact {
            return Ok(());
        }
        sqlx::query!(
            "update connections set last_inbound_at = ?1
             where id = ?2 and (last_inbound_at is null or last_inbound_at < ?1)",
            self.now,
            self.connection
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// `/ping`: records that the bot can reach us.
pub async fn ping(services: &Services, connection: i64) -> Result<()> {
    let call = Call::new(services, connection);
    services
        .writer
        .write(move |conn| Box::pin(call.touch(conn)))
        .await
}

/// `/createRemoteUser`: the same email within a connection is the same customer
/// (docs/botpress.md §4.3: duplicates happen after retries and re-links).
pub async fn create_remote_user(
    services: &Services,
    connection: i64,
    user: RemoteUser,
) -> Result<String> {
    let call = Call::new(services, connection);
    let email = user
        .email
        .clone()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    services
        .writer
        .write(move |conn| Box::pin(store_customer(conn, call, user, email)))
        .await
}

async fn store_customer(
    conn: &mut SqliteConnection,
    call: Call,
    user: RemoteUser,
    email: Option<String>,
) -> Result<String> {
    let Call {
        connection, now, ..
    } = call;
    call.touch(conn).await?;
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
    let call = Call::new(services, connection);
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
        .write(move |conn| Box::pin(store_ticket(conn, call, ticket)))
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
async fn store_ticket(conn: &mut SqliteConnection, call: Call, ticket: Created) -> Result<Effects> {
    let Call {
        connection, now, ..
    } = call;
    let Created {
        remote_id,
        title,
        description,
    } = ticket;
    call.touch(conn).await?;
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
    // Only those whose inbox shows it hear of it (and are alerted).
    let audience = crate::routing::audience_in(conn, connection).await?;
    effects.publish_among(
        audience,
        Change::TicketCreated {
            ticket: remote_id.clone(),
        },
    );
    effects.wake(Worker::Router);
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
    let call = Call::new(services, connection);
    let effects = services
        .writer
        .write(move |conn| Box::pin(store_message(conn, call, message)))
        .await?;
    services.apply(effects);
    Ok(())
}

async fn store_message(
    conn: &mut SqliteConnection,
    call: Call,
    message: BotSendsMessage,
) -> Result<Effects> {
    let Call {
        connection, now, ..
    } = call;
    let mut effects = Effects::new();
    call.touch(conn).await?;
    // What the message needs to know, in one statement: each statement is a round
    // trip on the writer's connection.
    let found = sqlx::query!(
        r#"select
            (select id from tickets where connection_id = ?1 and remote_id = ?2)
                as "ticket?: i64",
            (select id from customers where connection_id = ?1 and public_id = ?3)
                as "customer?: i64",
            (select end_notice_text from connections where id = ?1) as "end_notice?: String""#,
        connection,
        message.remote_conversation_id,
        message.remote_user_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let ticket = match found.ticket {
        Some(ticket) => ticket,
        None => recover_ticket(conn, connection, &message.remote_conversation_id, now).await?,
    };
    let (origin, customer) = match found.customer {
        _ if message.is_from_bot() => (Origin::System, None),
        Some(customer) => (Origin::Customer, Some(customer)),
        None => (
            Origin::Customer,
            Some(recover_customer(conn, connection, &message.remote_user_id, now).await?),
        ),
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
    // Reports count the customer's messages (`message_count`), not the bot's.
    let counted = i64::from(origin == Origin::Customer);
    let status = sqlx::query_scalar!(
        r#"update tickets
         set customer_id = coalesce(customer_id, ?),
             first_inbound_at = coalesce(first_inbound_at, ?),
             updated_at = ?,
             message_count = message_count + ?
         where id = ?
         returning status as "status: Status""#,
        customer,
        now,
        now,
        counted,
        ticket
    )
    .fetch_one(&mut *conn)
    .await?;

    // A message releases calls held until Botpress had the session.
    effects.wake(Worker::Outbox);
    if !message.is_from_bot() && status == Status::Closed {
        lifecycle::reopen_in(conn, &mut effects, ticket, now).await?;
    }
    if message.is_from_bot() && is_end_notice(&message, found.end_notice.as_deref()) {
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

/// Whether a bot message is the connection's end notice (the text the bot sends when
/// the customer ends the conversation).
fn is_end_notice(message: &BotSendsMessage, notice: Option<&str>) -> bool {
    if message.message_type() != "text" {
        return false;
    }
    match (message.payload.get("text").and_then(Value::as_str), notice) {
        (Some(text), Some(notice)) => text.trim() == notice.trim(),
        _ => false,
    }
}

/// Botpress knows a conversation we do not (a restored backup, a deleted ticket, a
/// second Baton): the message is kept in a ticket flagged for a person to look at.
async fn recover_ticket(
    conn: &mut SqliteConnection,
    connection: i64,
    remote_id: &str,
    now: i64,
) -> Result<i64> {
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

/// A customer id Botpress sent that we do not know: kept as a recovered customer.
async fn recover_customer(
    conn: &mut SqliteConnection,
    connection: i64,
    public_id: &str,
    now: i64,
) -> Result<i64> {
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
    let call = Call::new(services, connection);
    let effects = services
        .writer
        .write(move |conn| Box::pin(store_close(conn, call, conversation)))
        .await?;
    services.apply(effects);
    Ok(())
}

/// Stores the request and maps it if it can now, else asks the sync worker to look
/// it up.
async fn store_close(
    conn: &mut SqliteConnection,
    call: Call,
    conversation: String,
) -> Result<Effects> {
    let Call {
        connection, now, ..
    } = call;
    let mut effects = Effects::new();
    call.touch(conn).await?;
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
