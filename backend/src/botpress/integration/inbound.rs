//! What Baton does for each call of its own integration. As with plus/hitl-api's,
//! each operation's writes commit before the answer, so a 2xx means stored.

use protocol::ticket::{ClosedReason, Origin, Priority};
use serde_json::Value;

use super::wire::{
    self, CreateUser, HistoryMessage, Message, Register, Registered, Source, Speaker, StartHitl,
    StopHitl, StopReason,
};
use crate::botpress::inbound::{self as common, Call, Opening, Relay};
use crate::botpress::wire::RemoteUser;
use crate::effects::Effects;
use crate::tickets::activity::{self, Action};
use crate::tickets::lifecycle;
use crate::{Error, Result, Services, connections, ids};

/// The most messages a handoff may bring along (the request is at most 256 KB anyway).
pub const MAX_HISTORY: usize = 500;

/// `/register`: records the webhook URL and answers with the signing key (the same
/// one on every registration, so calls already signed stay valid).
pub async fn register(
    services: &Services,
    connection: i64,
    request: Register,
) -> Result<Registered> {
    let webhook_url = connections::validate_webhook_url(&request.webhook_url)
        .map_err(|e| Error::invalid(format!("webhookUrl: {e}")))?;
    let new_key = ids::new_token()?;
    let call = Call::new(services, connection);
    let signing_key = services
        .writer
        .write(move |tx| {
            Box::pin(async move {
                call.touch(tx).await?;
                Ok(tx
                    .connection_register(connection, &webhook_url, &new_key, call.now)
                    .await?)
            })
        })
        .await?;
    let name = connections::get(&*services.store, connection).await?.name;
    tracing::info!(connection, bot = ?request.bot_id, "Baton's integration registered");
    Ok(Registered {
        signing_key,
        connection: name,
    })
}

/// `/unregister`: the integration was uninstalled; nothing is sent to it from now on.
pub async fn unregister(services: &Services, connection: i64) -> Result<()> {
    let call = Call::new(services, connection);
    services
        .writer
        .write(move |tx| {
            Box::pin(async move {
                call.touch(tx).await?;
                Ok(tx.connection_unregister(connection, call.now).await?)
            })
        })
        .await?;
    tracing::info!(connection, "Baton's integration unregistered");
    Ok(())
}

/// `/createUser`: the same customer for the same email, as with plus/hitl-api, tagged
/// with the Botpress user (the latest one, when several share the email).
pub async fn create_user(
    services: &Services,
    connection: i64,
    request: CreateUser,
) -> Result<String> {
    wire::check_id("botpressUserId", &request.botpress_user_id)?;
    let botpress_user = request.botpress_user_id;
    let user = RemoteUser {
        name: request.name,
        email: request.email,
        picture_url: request.picture_url,
    };
    let call = Call::new(services, connection);
    services
        .writer
        .write(move |tx| {
            Box::pin(async move {
                let customer = common::store_customer(tx, call, user).await?;
                tx.customer_link_botpress(connection, &customer, &botpress_user)
                    .await?;
                Ok(customer)
            })
        })
        .await
}

/// `/startHitl`: a queued ticket for the customer, with its priority and team, and
/// the conversation before the handoff as the first part of its transcript.
pub async fn start_hitl(
    services: &Services,
    connection: i64,
    request: StartHitl,
) -> Result<String> {
    wire::check_id("customerId", &request.customer_id)?;
    if request.message_history.len() > MAX_HISTORY {
        return Err(Error::invalid(format!(
            "messageHistory: at most {MAX_HISTORY} messages"
        )));
    }
    let priority = request.priority.as_deref().map(priority).transpose()?;
    let remote_id = ids::new_id(ids::TICKET)?;
    let call = Call::new(services, connection);
    let answer = remote_id.clone();
    services
        .write_applying(move |tx| Box::pin(store_start(tx, call, remote_id, priority, request)))
        .await?;
    Ok(answer)
}

/// Reads a priority; the message lists the allowed values.
fn priority(raw: &str) -> Result<Priority> {
    raw.trim().to_lowercase().parse().map_err(|_| {
        let allowed: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        Error::invalid(format!(
            "hitlSession.priority: {raw:?} is not one of {}",
            allowed.join(", ")
        ))
    })
}

/// The team named `raw` (in any letter case) among those that may hold the bot's
/// tickets: the teams that serve the connection, or any team when none does (then
/// everyone serves it). A team behind another wall could never see the ticket. The
/// message lists the teams that may.
async fn team(tx: &mut dyn store::Tx, connection: i64, raw: &str) -> Result<i64> {
    let serving: Vec<i64> = tx
        .team_connections_all()
        .await?
        .into_iter()
        .filter(|served| served.id == connection)
        .map(|served| served.team_id)
        .collect();
    let teams: Vec<(i64, String)> = tx
        .teams_all()
        .await?
        .into_iter()
        .filter(|(id, _)| serving.is_empty() || serving.contains(id))
        .collect();
    let wanted = raw.trim().to_lowercase();
    if let Some((id, _)) = teams.iter().find(|(_, name)| name.to_lowercase() == wanted) {
        return Ok(*id);
    }
    let names: Vec<&str> = teams.iter().map(|(_, name)| name.as_str()).collect();
    Err(Error::invalid(if names.is_empty() {
        format!("hitlSession.team: no team named {raw:?}; Baton has no teams yet")
    } else {
        format!(
            "hitlSession.team: no team named {raw:?} serves this bot; the teams are {}",
            names.join(", ")
        )
    }))
}

async fn store_start(
    tx: &mut dyn store::Tx,
    call: Call,
    remote_id: String,
    priority: Option<Priority>,
    request: StartHitl,
) -> Result<Effects> {
    let team = match request.team.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(name) => Some(team(tx, call.connection, name).await?),
        None => None,
    };
    // The ticket does not exist yet, so only the customer is looked up here.
    let Some(customer) = tx
        .message_addressed(call.connection, &remote_id, &request.customer_id)
        .await?
        .customer
    else {
        return Err(Error::invalid(format!(
            "customerId: {:?} is not a customer of this connection; call createUser first",
            request.customer_id
        )));
    };
    let opening = Opening {
        remote_id,
        title: request.title.unwrap_or_default(),
        description: request.description.unwrap_or_default(),
        customer: Some(customer),
        priority,
        team,
    };
    let (ticket, effects) = common::open_ticket(tx, call, opening, false).await?;
    for (index, message) in request.message_history.iter().enumerate() {
        store_history(tx, ticket, customer, index, message, call.now).await?;
    }
    Ok(effects)
}

/// One message from before the handoff, as a transcript line in its place.
async fn store_history(
    tx: &mut dyn store::Tx,
    ticket: i64,
    customer: i64,
    index: usize,
    message: &HistoryMessage,
    now: i64,
) -> Result<()> {
    let (origin, customer) = match message.source {
        Source::User { .. } => (Origin::TranscriptCustomer, Some(customer)),
        Source::Bot => (Origin::TranscriptBot, None),
    };
    let payload = Value::Object(message.payload.clone()).to_string();
    // The history has no message ids; its place in it is unique per ticket.
    let external_id = format!("history:{index}");
    let line = store::sync::TranscriptLine {
        ticket,
        origin,
        kind: &message.kind,
        payload: &payload,
        customer,
        external_id: &external_id,
        sent_at: None,
        at: now,
    };
    tx.transcript_insert(&line).await?;
    Ok(())
}

/// `/message`: stores the message once, however often Botpress delivers it.
pub async fn message(services: &Services, connection: i64, request: Message) -> Result<()> {
    wire::check_id("ticketId", &request.ticket_id)?;
    wire::check_id("messageId", &request.message_id)?;
    if let Some(conversation) = &request.conversation_id {
        wire::check_id("conversationId", conversation)?;
    }
    if request.kind.trim().is_empty() {
        return Err(Error::invalid("type: must not be empty"));
    }
    if request.from == Speaker::Customer {
        match &request.customer_id {
            Some(id) => wire::check_id("customerId", id)?,
            None => {
                return Err(Error::invalid(
                    "customerId: required when from is \"customer\"",
                ));
            }
        }
    }
    let call = Call::new(services, connection);
    services
        .write_applying(move |tx| {
            Box::pin(async move {
                let customer = match request.from {
                    Speaker::Customer => request.customer_id.as_deref(),
                    Speaker::Bot => None,
                };
                let relay = Relay {
                    ticket: &request.ticket_id,
                    customer,
                    kind: &request.kind,
                    payload: request.payload.clone(),
                    external_id: Some(&request.message_id),
                    conversation: request.conversation_id.as_deref(),
                    watch_end_notice: false,
                };
                common::relay(tx, call, relay).await
            })
        })
        .await
}

/// `/stopHitl`: closes the ticket with the reason the bot gave. A ticket already
/// closed stays as it is; one Baton does not know (deleted, another installation's)
/// has nothing to close, which is what the bot wanted.
pub async fn stop_hitl(services: &Services, connection: i64, request: StopHitl) -> Result<()> {
    wire::check_id("ticketId", &request.ticket_id)?;
    let call = Call::new(services, connection);
    let reason = match request.reason.unwrap_or(StopReason::BotStopped) {
        StopReason::CustomerEnded => ClosedReason::CustomerEnded,
        StopReason::BotStopped => ClosedReason::BotClosed,
    };
    services
        .write_applying(move |tx| {
            Box::pin(async move {
                call.touch(tx).await?;
                let mut effects = Effects::new();
                let Some(ticket) = tx
                    .message_addressed(call.connection, &request.ticket_id, "")
                    .await?
                    .ticket
                else {
                    tracing::warn!(ticket = request.ticket_id, "stopHitl for an unknown ticket");
                    return Ok(effects);
                };
                if let Some(conversation) = request.conversation_id.as_deref() {
                    tx.ticket_remember_conversation(ticket, conversation)
                        .await?;
                }
                if lifecycle::close(tx, &mut effects, ticket, reason, call.now).await? {
                    let why = match reason {
                        ClosedReason::CustomerEnded => "the customer left",
                        _ => "the bot stopped it",
                    };
                    let line = Action::BotEnded;
                    activity::record(tx, ticket, None, line, None, Some(why), call.now).await?;
                }
                Ok(effects)
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_priority_names_the_allowed_values() {
        assert_eq!(priority(" High").unwrap(), Priority::High);
        assert_eq!(priority("urgent").unwrap(), Priority::Urgent);
        let err = priority("asap").unwrap_err().to_string();
        assert!(
            err.contains("\"asap\" is not one of low, normal, high, urgent"),
            "{err}"
        );
    }
}
