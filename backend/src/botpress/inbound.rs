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
use store::inbound::{MappedBy, NewCustomer, NewMessage};

use super::wire::{BotSendsMessage, CloseRemoteTicket, RemoteConversation, RemoteUser};
use crate::clock::now_ms;
use crate::effects::{Effects, Holders, NewTicket, Worker};
use crate::tickets::lifecycle;
use crate::{Result, Services, connections, ids};

/// Delay before asking the Botpress API about a new ticket: Botpress creates its
/// conversation only after our createRemoteConversation answer (docs/botpress.md §9.2).
pub const SYNC_DELAY_MS: i64 = 3_000;

/// One inbound call: which bot, and when.
#[derive(Clone, Copy)]
pub(super) struct Call {
    pub(super) connection: i64,
    pub(super) now: i64,
    /// Whether this call writes `last_inbound_at` (see `touch`).
    record_contact: bool,
}

impl Call {
    pub(super) fn new(services: &Services, connection: i64) -> Self {
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
    pub(super) async fn touch(self, tx: &mut dyn store::Tx) -> Result<()> {
        if !self.record_contact {
            return Ok(());
        }
        tx.connection_contact(self.connection, self.now).await?;
        Ok(())
    }
}

/// `/ping`: records that the bot can reach us.
pub async fn ping(services: &Services, connection: i64) -> Result<()> {
    let call = Call::new(services, connection);
    services
        .writer
        .write(move |tx| Box::pin(call.touch(tx)))
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
    services
        .writer
        .write(move |tx| Box::pin(store_customer(tx, call, user)))
        .await
}

/// Finds the customer with the user's email, refreshing what Botpress says of them,
/// or creates one; their public id.
pub(super) async fn store_customer(
    tx: &mut dyn store::Tx,
    call: Call,
    user: RemoteUser,
) -> Result<String> {
    let email = user
        .email
        .clone()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    find_or_insert_customer(tx, call, user, email).await
}

async fn find_or_insert_customer(
    tx: &mut dyn store::Tx,
    call: Call,
    user: RemoteUser,
    email: Option<String>,
) -> Result<String> {
    let Call {
        connection, now, ..
    } = call;
    call.touch(tx).await?;
    let name = user.name.as_deref();
    let picture_url = user.picture_url.as_deref();
    if let Some(email) = &email {
        let existing = tx
            .customer_refresh(connection, email, name, picture_url, now)
            .await?;
        if let Some(public_id) = existing {
            return Ok(public_id);
        }
    }
    let public_id = ids::new_id(ids::CUSTOMER)?;
    let new = NewCustomer {
        public_id: &public_id,
        connection,
        name,
        email: email.as_deref(),
        picture_url,
        at: now,
    };
    tx.customer_insert(&new).await?;
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
    let ticket = Opening {
        remote_id: remote_id.clone(),
        title,
        description,
        customer: None,
        priority: None,
        team: None,
    };
    services
        .write_applying(move |tx| {
            Box::pin(async move {
                let can_sync = connections::secrets_in(tx, connection)
                    .await?
                    .api_credentials()
                    .is_some();
                let (_, effects) = open_ticket(tx, call, ticket, can_sync).await?;
                Ok(effects)
            })
        })
        .await?;
    Ok(remote_id)
}

/// A new ticket, as either integration opens it.
pub(super) struct Opening {
    pub remote_id: String,
    pub title: String,
    pub description: String,
    pub customer: Option<i64>,
    pub priority: Option<protocol::ticket::Priority>,
    pub team: Option<i64>,
}

/// Inserts the ticket and returns its row id; its effects: the event, the alert,
/// and a Botpress API sync when `sync` (the connection has credentials for one).
pub(super) async fn open_ticket(
    tx: &mut dyn store::Tx,
    call: Call,
    ticket: Opening,
    sync: bool,
) -> Result<(i64, Effects)> {
    let Call {
        connection, now, ..
    } = call;
    let Opening {
        remote_id,
        title,
        description,
        customer,
        priority,
        team,
    } = ticket;
    call.touch(tx).await?;
    let new = store::inbound::NewTicket {
        connection,
        remote_id: &remote_id,
        title: &title,
        description: &description,
        sync_at: sync.then_some(now + SYNC_DELAY_MS),
        customer,
        priority,
        team,
        at: now,
    };
    let id = tx.ticket_insert(&new).await?;
    let mut effects = Effects::new();
    if sync {
        effects.wake(Worker::Sync);
    }
    // Only those whose inbox shows it hear of it (and are alerted).
    let audience = crate::routing::audience(tx, connection).await?;
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
    Ok((id, effects))
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
    services
        .write_applying(move |tx| Box::pin(store_message(tx, call, message)))
        .await?;
    Ok(())
}

async fn store_message(
    tx: &mut dyn store::Tx,
    call: Call,
    message: BotSendsMessage,
) -> Result<Effects> {
    let from_bot = message.is_from_bot();
    let kind = message.message_type().to_owned();
    let message_relayed = Relay {
        ticket: &message.remote_conversation_id,
        customer: (!from_bot).then_some(message.remote_user_id.as_str()),
        kind: &kind,
        payload: message.payload.clone(),
        external_id: None,
        conversation: None,
        watch_end_notice: true,
    };
    relay(tx, call, message_relayed).await
}

/// A message Botpress relays into a ticket, from either integration.
pub(super) struct Relay<'a> {
    /// The ticket's id as Botpress knows it (`remote_id`).
    pub ticket: &'a str,
    /// The customer's public id; `None` for a notice from the bot.
    pub customer: Option<&'a str>,
    pub kind: &'a str,
    pub payload: serde_json::Map<String, Value>,
    /// Botpress's message id (Baton's integration): stored once however often sent.
    pub external_id: Option<&'a str>,
    /// The Botpress conversation, remembered on the ticket (Baton's integration).
    pub conversation: Option<&'a str>,
    /// plus/hitl-api: a bot notice equal to the end notice closes the ticket
    /// (Baton's integration says so with `/stopHitl` instead).
    pub watch_end_notice: bool,
}

/// Stores a relayed message whole. Never drops one: an unknown ticket id becomes a
/// recovered ticket, an unknown customer id a recovered customer.
pub(super) async fn relay(
    tx: &mut dyn store::Tx,
    call: Call,
    message: Relay<'_>,
) -> Result<Effects> {
    let relay = message;
    let Call {
        connection, now, ..
    } = call;
    let mut effects = Effects::new();
    call.touch(tx).await?;
    let from_bot = relay.customer.is_none();
    // What the message needs to know, in one statement: each statement is a round
    // trip on the writer's connection.
    let found = tx
        .message_addressed(connection, relay.ticket, relay.customer.unwrap_or("BOT"))
        .await?;
    let ticket = match found.ticket {
        Some(ticket) => ticket,
        None => recover_ticket(tx, connection, relay.ticket, now).await?,
    };
    let (origin, customer) = match (found.customer, relay.customer) {
        (_, None) => (Origin::System, None),
        (Some(customer), Some(_)) => (Origin::Customer, Some(customer)),
        (None, Some(public_id)) => (
            Origin::Customer,
            Some(recover_customer(tx, connection, public_id, now).await?),
        ),
    };
    let payload_value = Value::Object(relay.payload);
    let payload = payload_value.to_string();
    let new = NewMessage {
        ticket,
        origin,
        kind: relay.kind,
        payload: &payload,
        customer,
        external_id: relay.external_id,
        at: now,
    };
    let Some(message_id) = tx.message_insert(&new).await? else {
        // Delivered before (Botpress retried): stored already, nothing new to tell.
        return Ok(effects);
    };
    if let Some(conversation) = relay.conversation {
        tx.ticket_remember_conversation(ticket, conversation)
            .await?;
    }
    // The ticket is named by the id Botpress just sent (a recovered ticket keeps it
    // too); who hears of it is the connection's audience (one indexed lookup when no
    // team serves it).
    effects
        .publish_ticket(
            tx,
            connection,
            Holders::Of(ticket),
            Change::MessageAdded {
                ticket: relay.ticket.to_owned(),
                message: message_id,
                origin,
            },
        )
        .await?;
    crate::media::queue_in(
        tx,
        &mut effects,
        ticket,
        message_id,
        relay.kind,
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
    let counted = origin == Origin::Customer;
    let status = tx
        .ticket_message_arrived(ticket, customer, counted, now)
        .await?;

    // A message releases calls held until Botpress had the session.
    effects.wake(Worker::Outbox);
    if !from_bot && status == Status::Closed {
        lifecycle::reopen(tx, &mut effects, ticket, now).await?;
    }
    if from_bot
        && relay.watch_end_notice
        && is_end_notice(relay.kind, &payload_value, found.end_notice.as_deref())
    {
        let reason = ClosedReason::CustomerEnded;
        lifecycle::close(tx, &mut effects, ticket, reason, now).await?;
        tx.ticket_end_notice(ticket, now).await?;
    }
    Ok(effects)
}

/// Whether a bot message is the connection's end notice (the text the bot sends when
/// the customer ends the conversation).
fn is_end_notice(kind: &str, payload: &Value, notice: Option<&str>) -> bool {
    if kind != "text" {
        return false;
    }
    match (payload.get("text").and_then(Value::as_str), notice) {
        (Some(text), Some(notice)) => text.trim() == notice.trim(),
        _ => false,
    }
}

/// Botpress knows a conversation we do not (a restored backup, a deleted ticket, a
/// second Baton): the message is kept in a ticket flagged for a person to look at.
async fn recover_ticket(
    tx: &mut dyn store::Tx,
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
    Ok(tx
        .ticket_recover(connection, remote_id, description, now)
        .await?)
}

/// A customer id Botpress sent that we do not know: kept as a recovered customer.
async fn recover_customer(
    tx: &mut dyn store::Tx,
    connection: i64,
    public_id: &str,
    now: i64,
) -> Result<i64> {
    tracing::warn!(
        connection,
        public_id,
        "message from an unknown customer id; recovering it"
    );
    Ok(tx.customer_recover(connection, public_id, now).await?)
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
    services
        .write_applying(move |tx| Box::pin(store_close(tx, call, conversation)))
        .await?;
    Ok(())
}

/// Stores the request and maps it if it can now, else asks the sync worker to look
/// it up.
async fn store_close(tx: &mut dyn store::Tx, call: Call, conversation: String) -> Result<Effects> {
    let Call {
        connection, now, ..
    } = call;
    let mut effects = Effects::new();
    call.touch(tx).await?;
    let request_id = tx
        .close_request_insert(connection, &conversation, now)
        .await?;
    let known = tx.ticket_by_conversation(connection, &conversation).await?;
    if let Some(ticket) = known {
        super::mapping::resolve(tx, &mut effects, request_id, ticket, MappedBy::Known, now).await?;
    } else if connections::secrets_in(tx, connection)
        .await?
        .api_credentials()
        .is_some()
    {
        tx.close_request_due(request_id, now).await?;
        effects.wake(Worker::Sync);
    } else {
        super::mapping::by_end_notice(tx, &mut effects, request_id, connection, now, now).await?;
    }
    Ok(effects)
}
