//! What people do to tickets: take, transfer, reply, hand back, resend; and the sweep
//! that closes abandoned ones.
//!
//! Each change, the webhook call that announces it to Botpress (the outbox), its
//! activity line and its audit entry are written in one transaction, so none can
//! happen without the others; its events follow the commit (see `effects`).
//!
//! Who may act: any active agent who serves the ticket's connection (`routing`) may
//! take a queued ticket; once someone holds it, only they or an admin may transfer
//! it, hand it back, close it or take it over; only the holder replies and resends.
//! A ticket goes only to someone whose inbox shows it.

use protocol::account::Role;
use protocol::realtime::Change;
use protocol::ticket::{ClosedReason, Delivery, Origin, Status};
use serde_json::{Value, json};

use super::activity::{self, Action};
use super::lifecycle;
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::effects::{Effects, Holders, Worker};
use crate::outbox::{self, WebhookCall};
use crate::{Error, Result, Services, routing};

/// Who is acting on a ticket: their account, whether they are an admin, and how the
/// audit log names them.
#[derive(Debug, Clone)]
pub struct By {
    pub user: i64,
    pub admin: bool,
    pub actor: Actor,
}

impl By {
    pub fn new(user: &crate::users::User, ip: Option<String>) -> Self {
        By {
            user: user.id,
            admin: user.role == Role::Admin,
            actor: Actor {
                id: Some(user.id),
                label: user.email.clone(),
                ip,
            },
        }
    }
}

/// An open ticket as a command sees it.
pub(crate) struct Open {
    remote_id: String,
    connection_id: i64,
    assignee_id: Option<i64>,
}

async fn open_ticket(tx: &mut dyn store::Tx, ticket: i64) -> Result<Open> {
    let t = tx
        .ticket_head(ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    if t.status == Status::Closed {
        return Err(Error::Conflict("the ticket is closed".into()));
    }
    Ok(Open {
        remote_id: t.remote_id,
        connection_id: t.connection_id,
        assignee_id: t.assignee_id,
    })
}

/// The open ticket, if `agent` holds it; else why they may not write in it.
pub(crate) async fn held_by(tx: &mut dyn store::Tx, ticket: i64, agent: i64) -> Result<Open> {
    let t = open_ticket(tx, ticket).await?;
    match t.assignee_id {
        Some(holder) if holder == agent => Ok(t),
        Some(_) => Err(Error::NotAllowed(
            "a colleague holds this conversation: only they can reply".into(),
        )),
        None => Err(Error::Conflict(
            "take the ticket before replying: it is not assigned to you".into(),
        )),
    }
}

/// The public id of an active account (the id Botpress knows an agent by).
async fn active_agent(tx: &mut dyn store::Tx, user: i64) -> Result<String> {
    let user = tx.user_get(user).await?.ok_or(Error::NotFound("agent"))?;
    if !user.active {
        return Err(Error::Conflict("that agent is deactivated".into()));
    }
    Ok(user.public_id)
}

/// Anyone may change hands of a queued ticket; once held, the holder or an admin.
async fn may_manage(tx: &mut dyn store::Tx, t: &Open, by: &By) -> Result<()> {
    let Some(holder) = t.assignee_id else {
        return Ok(());
    };
    if holder == by.user || by.admin {
        return Ok(());
    }
    let name = tx
        .user_get(holder)
        .await?
        .map_or_else(|| "A colleague".to_owned(), |u| u.name);
    Err(Error::NotAllowed(format!(
        "{name} holds this conversation: only they or an admin can take it over, transfer it or close it"
    )))
}

/// Writes the activity line and the audit entry of a change, in its transaction.
async fn record(
    tx: &mut dyn store::Tx,
    t: &Open,
    ticket: i64,
    by: &By,
    action: Action,
    other: Option<i64>,
    now: i64,
) -> Result<()> {
    activity::record(tx, ticket, Some(by.user), action, other, None, now).await?;
    let other = match other {
        Some(id) => tx.user_get(id).await?.map(|u| u.public_id),
        None => None,
    };
    audit::record(
        tx,
        &by.actor,
        action.audit_name(),
        json!({ "ticket": t.remote_id, "agent": other }),
    )
    .await
}

/// Assigns the ticket to `agent`: taking it from the queue, taking it over (an admin),
/// or a transfer. Botpress is told once per real change of hands: assigning to the
/// current holder does nothing.
pub async fn assign(services: &Services, ticket: i64, agent: i64, by: &By) -> Result<bool> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let t = open_ticket(&mut *tx, ticket).await?;
    if t.assignee_id == Some(agent) {
        return Ok(false);
    }
    may_manage(&mut *tx, &t, by).await?;
    let agent_id = active_agent(&mut *tx, agent).await?;
    if !routing::sees(&mut *tx, agent, t.connection_id).await? {
        return Err(if agent == by.user {
            Error::NotAllowed(
                "your teams do not serve this bot's conversations: ask an admin".into(),
            )
        } else {
            Error::Conflict(
                "that agent's teams do not serve this bot's conversations, so they could not see it"
                    .into(),
            )
        });
    }
    let (action, other) = match t.assignee_id {
        _ if agent != by.user => (Action::Transferred, Some(agent)),
        Some(holder) => (Action::TookOver, Some(holder)),
        None => (Action::Took, None),
    };
    record(&mut *tx, &t, ticket, by, action, other, now).await?;
    hand_over(
        &mut *tx,
        &mut effects,
        ticket,
        &t.remote_id,
        &agent_id,
        agent,
        now,
    )
    .await?;
    if agent != by.user {
        effects.publish_to(
            agent,
            Change::AssignedToYou {
                ticket: t.remote_id,
            },
        );
    }
    services.commit_session(tx, effects).await?;
    Ok(true)
}

/// Gives an open ticket to `agent` (`agent_id` is their public id) inside the
/// caller's transaction: the ticket, the `/agent-assigned` call, the event. The
/// caller checked who may, and recorded why.
pub(crate) async fn hand_over(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: i64,
    remote_id: &str,
    agent_id: &str,
    agent: i64,
    now: i64,
) -> Result<()> {
    // The former holder hears that it is no longer theirs, even from outside the
    // teams that serve it.
    let before = tx
        .ticket_head(ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    tx.ticket_hand_over(ticket, agent, now).await?;
    let call = WebhookCall::AgentAssigned {
        conversation: remote_id.to_owned(),
        agent: agent_id.to_owned(),
    };
    outbox::enqueue(tx, effects, ticket, &call, now).await?;
    let change = Change::Assigned {
        ticket: remote_id.to_owned(),
        agent: Some(agent_id.to_owned()),
    };
    let holders = Holders::Known(before.assignee_id.into_iter().chain([agent]).collect());
    effects
        .publish_ticket(tx, before.connection_id, holders, change)
        .await?;
    // A transfer frees room with the former holder.
    effects.wake(Worker::Router);
    Ok(())
}

/// The message types an agent may send: exactly those the HITL plugin relays to the
/// end user (docs/botpress.md §7; `bloc` is composed by bots, not agents).
pub const AGENT_TYPES: [&str; 5] = ["text", "image", "audio", "video", "file"];

/// Checks an agent's message and returns the payload Botpress gets: only the fields of
/// its type, never `type` or `userId` (docs/botpress.md §7).
pub fn agent_payload(kind: &str, payload: &Value) -> Result<Value> {
    let field = |name: &str| -> Result<String> {
        match payload.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            _ => Err(Error::invalid(format!(
                "a {kind} message needs a non-empty {name}"
            ))),
        }
    };
    let body = match kind {
        "text" => json!({ "text": field("text")? }),
        "image" => json!({ "imageUrl": field("imageUrl")? }),
        "audio" => json!({ "audioUrl": field("audioUrl")? }),
        "video" => json!({ "videoUrl": field("videoUrl")? }),
        "file" => match payload.get("title") {
            Some(Value::String(t)) if !t.trim().is_empty() => {
                json!({ "fileUrl": field("fileUrl")?, "title": t })
            }
            _ => json!({ "fileUrl": field("fileUrl")? }),
        },
        other => {
            return Err(Error::invalid(format!(
                "agents can send {}, not {other:?}: the Botpress plugin relays nothing else",
                AGENT_TYPES.join(", ")
            )));
        }
    };
    Ok(body)
}

/// An agent's reply. Only the ticket's holder may write, and only while it is open.
/// Returns the new message id; its delivery state starts as `pending`.
pub async fn send_message(
    services: &Services,
    ticket: i64,
    agent: i64,
    kind: &str,
    payload: &Value,
) -> Result<i64> {
    let payload = agent_payload(kind, payload)?;
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let t = held_by(&mut *tx, ticket, agent).await?;
    let agent_id = active_agent(&mut *tx, agent).await?;
    let stored = payload.to_string();
    let origin = Origin::Agent;
    let message = tx
        .message_agent_insert(ticket, kind, &stored, agent, now)
        .await?;
    // For reports: the first response, and the count.
    tx.ticket_responded(ticket, now).await?;
    let call = WebhookCall::MessageFromAgent {
        conversation: t.remote_id.clone(),
        agent: agent_id,
        kind: kind.to_owned(),
        payload,
        message,
    };
    outbox::enqueue(&mut *tx, &mut effects, ticket, &call, now).await?;
    effects
        .publish_ticket(
            &mut *tx,
            t.connection_id,
            Holders::Known(vec![agent]),
            Change::MessageAdded {
                ticket: t.remote_id,
                message,
                origin,
            },
        )
        .await?;
    services.commit_session(tx, effects).await?;
    Ok(message)
}

/// Queues a failed agent message again (the agent's *Resend*).
pub async fn resend(services: &Services, message: i64, by: &By) -> Result<()> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let (ticket, delivery) = tx
        .message_agent_delivery(message)
        .await?
        .ok_or(Error::NotFound("message"))?;
    // Whose it is first: others learn nothing about its messages.
    let t = open_ticket(&mut *tx, ticket).await?;
    if t.assignee_id != Some(by.user) {
        return Err(Error::NotAllowed(
            "only the agent who holds the ticket can resend its messages".into(),
        ));
    }
    if delivery != Some(Delivery::Failed) {
        return Err(Error::Conflict(
            "only a failed message can be resent".into(),
        ));
    }
    record(&mut *tx, &t, ticket, by, Action::Resent, None, now).await?;
    let body = tx
        .outbox_last_body(message)
        .await?
        .ok_or_else(|| Error::Internal(format!("message {message} was never queued")))?;
    let call = WebhookCall::message_from_stored(&body, message)?;
    tx.message_redeliver(message).await?;
    outbox::enqueue(&mut *tx, &mut effects, ticket, &call, now).await?;
    effects
        .publish_ticket(
            &mut *tx,
            t.connection_id,
            Holders::Known(vec![by.user]),
            Change::DeliveryChanged {
                ticket: t.remote_id,
                message,
            },
        )
        .await?;
    services.commit_session(tx, effects).await
}

/// Hands the conversation back to the bot and closes the ticket (`/stop-hitl`; the v12
/// module's "unpause"). Botpress does not call closeRemoteTicket back for this.
pub async fn hand_back(services: &Services, ticket: i64, by: &By) -> Result<()> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let t = open_ticket(&mut *tx, ticket).await?;
    may_manage(&mut *tx, &t, by).await?;
    let reason = ClosedReason::HandedBack;
    lifecycle::close(&mut *tx, &mut effects, ticket, reason, now).await?;
    record(&mut *tx, &t, ticket, by, Action::HandedBack, None, now).await?;
    let call = WebhookCall::Stop {
        conversation: t.remote_id,
    };
    outbox::enqueue(&mut *tx, &mut effects, ticket, &call, now).await?;
    services.commit_session(tx, effects).await
}

/// Closes queued tickets that never saw a message since `cutoff` (ms): a create
/// retried by Botpress leaves such a twin behind (docs/botpress.md §11 #14). Each is
/// handed back with `/stop-hitl` (docs/botpress.md §9.4): for a twin Botpress ignores
/// it; for a real session whose customer never wrote, it frees them from waiting.
/// Returns how many.
pub async fn close_abandoned(services: &Services, cutoff: i64) -> Result<u64> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let abandoned = tx.tickets_abandoned(cutoff).await?;
    for (id, remote_id) in &abandoned {
        let reason = ClosedReason::Abandoned;
        lifecycle::close(&mut *tx, &mut effects, *id, reason, now).await?;
        let call = WebhookCall::Stop {
            conversation: remote_id.clone(),
        };
        outbox::enqueue(&mut *tx, &mut effects, *id, &call, now).await?;
    }
    services.commit_session(tx, effects).await?;
    let closed = u64::try_from(abandoned.len()).unwrap_or(u64::MAX);
    if closed > 0 {
        tracing::info!(
            closed,
            "closed queued tickets that never received a message"
        );
    }
    Ok(closed)
}

/// Periodic upkeep: closes abandoned tickets every ten minutes.
pub async fn housekeeping(services: Services, cancel: tokio_util::sync::CancellationToken) {
    let every = std::time::Duration::from_secs(600);
    crate::jobs::every(
        &services,
        crate::jobs::Job::Housekeeping,
        every,
        &cancel,
        |services| async move {
            let age =
                i64::try_from(services.settings.abandon_after.as_millis()).unwrap_or(i64::MAX);
            close_abandoned(&services, now_ms().saturating_sub(age)).await?;
            Ok(())
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_payloads_carry_only_their_fields() {
        let p = agent_payload(
            "text",
            &json!({"text": "hi", "type": "text", "userId": "u"}),
        )
        .unwrap();
        assert_eq!(p, json!({"text": "hi"}));
        let p =
            agent_payload("file", &json!({"fileUrl": "https://f/x.pdf", "title": "X"})).unwrap();
        assert_eq!(p, json!({"fileUrl": "https://f/x.pdf", "title": "X"}));
        assert!(agent_payload("text", &json!({"text": "  "})).is_err());
        assert!(agent_payload("image", &json!({"text": "x"})).is_err());
        for bad in ["card", "markdown", "location", "bloc", "choice"] {
            assert!(agent_payload(bad, &json!({"text": "x"})).is_err(), "{bad}");
        }
    }
}
