//! The durable outbox for calls to a bot's webhook (`/message-from-agent`,
//! `/agent-assigned`, `/stop-hitl`).
//!
//! A call is written in the same transaction as the change it announces, then the
//! worker (see `worker`) is woken and delivers it: in order per ticket, retrying what
//! surely did not land, and marking failed (with the reason) what may have landed, so
//! nothing is sent twice behind a person's back and nothing is silently dropped.

pub mod baton;
pub mod signing;
pub mod worker;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;
use crate::effects::{Effects, Worker};

pub use store::outbox::Route;

/// One call to a bot's webhook: its route and its body, as Botpress expects them
/// (docs/botpress.md §6, §7). Ids are the strings Botpress knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookCall {
    /// An agent's message, relayed to the end user.
    MessageFromAgent {
        conversation: String,
        agent: String,
        /// `text`, `image`, `audio`, `video` or `file`.
        kind: String,
        /// Only the fields of its type (see `tickets::agent_payload`).
        payload: Value,
        /// Our row, whose delivery state follows the call.
        message: i64,
    },
    /// A person took the conversation (or it changed hands).
    AgentAssigned { conversation: String, agent: String },
    /// The conversation goes back to the bot.
    Stop { conversation: String },
    /// Baton's own text to the end user (nobody can take the conversation; their
    /// place in the queue), sent as the agent [`BATON_AGENT`]. Not a stored message.
    Notice { conversation: String, text: String },
}

/// The agent id Baton's own notices are sent as: an agent-side id (Botpress keeps
/// agent and customer ids apart, docs/botpress.md §9), never a person's.
pub const BATON_AGENT: &str = "agt_baton";

/// The bodies, field for field as on the wire.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageBody {
    remote_conversation_id: String,
    remote_user_id: String,
    message_type: String,
    payload: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AssignedBody<'a> {
    remote_conversation_id: &'a str,
    remote_user_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StopBody<'a> {
    remote_conversation_id: &'a str,
}

impl WebhookCall {
    pub fn route(&self) -> Route {
        match self {
            WebhookCall::MessageFromAgent { .. } | WebhookCall::Notice { .. } => {
                Route::MessageFromAgent
            }
            WebhookCall::AgentAssigned { .. } => Route::AgentAssigned,
            WebhookCall::Stop { .. } => Route::StopHitl,
        }
    }

    /// The agent message whose delivery state this call decides.
    pub fn message(&self) -> Option<i64> {
        match self {
            WebhookCall::MessageFromAgent { message, .. } => Some(*message),
            _ => None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let body = match self {
            WebhookCall::MessageFromAgent {
                conversation,
                agent,
                kind,
                payload,
                ..
            } => serde_json::to_string(&MessageBody {
                remote_conversation_id: conversation.clone(),
                remote_user_id: agent.clone(),
                message_type: kind.clone(),
                payload: payload.clone(),
            }),
            WebhookCall::AgentAssigned {
                conversation,
                agent,
            } => serde_json::to_string(&AssignedBody {
                remote_conversation_id: conversation,
                remote_user_id: agent,
            }),
            WebhookCall::Stop { conversation } => serde_json::to_string(&StopBody {
                remote_conversation_id: conversation,
            }),
            WebhookCall::Notice { conversation, text } => serde_json::to_string(&MessageBody {
                remote_conversation_id: conversation.clone(),
                remote_user_id: BATON_AGENT.to_owned(),
                message_type: "text".to_owned(),
                payload: serde_json::json!({ "text": text }),
            }),
        };
        // Strings and JSON values always serialise.
        body.unwrap_or_default()
    }

    /// An agent message's call as it was stored, to send it again (*Resend*).
    pub fn message_from_stored(body: &str, message: i64) -> Result<Self> {
        let stored: MessageBody = serde_json::from_str(body).map_err(|e| {
            crate::Error::Internal(format!("a stored agent message call is malformed: {e}"))
        })?;
        Ok(WebhookCall::MessageFromAgent {
            conversation: stored.remote_conversation_id,
            agent: stored.remote_user_id,
            kind: stored.message_type,
            payload: stored.payload,
            message,
        })
    }
}

/// Queues `call` for `ticket` (the worker is woken once the write commits).
pub async fn enqueue(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: i64,
    call: &WebhookCall,
    now: i64,
) -> Result<()> {
    let body = call.body();
    let row = store::outbox::NewCall {
        ticket,
        message: call.message(),
        route: call.route(),
        body: &body,
        at: now,
    };
    tx.outbox_insert(&row).await?;
    effects.wake(Worker::Outbox);
    Ok(())
}

/// Marks every undelivered call of a ticket failed, with `reason` on its message.
pub async fn cancel_pending(
    tx: &mut dyn store::Tx,
    ticket: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    tx.outbox_cancel_pending(ticket, reason, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_carry_their_route_and_exact_body() {
        let reply = WebhookCall::MessageFromAgent {
            conversation: "tkt_1".into(),
            agent: "usr_2".into(),
            kind: "text".into(),
            payload: json!({"text": "hi"}),
            message: 7,
        };
        assert_eq!(reply.route().path(), "message-from-agent");
        let body: Value = serde_json::from_str(&reply.body()).unwrap();
        assert_eq!(
            body,
            json!({"remoteConversationId": "tkt_1", "remoteUserId": "usr_2",
                   "messageType": "text", "payload": {"text": "hi"}})
        );
        assert_eq!(
            WebhookCall::message_from_stored(&reply.body(), 7).unwrap(),
            reply
        );
        let assigned = WebhookCall::AgentAssigned {
            conversation: "tkt_1".into(),
            agent: "usr_2".into(),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&assigned.body()).unwrap(),
            json!({"remoteConversationId": "tkt_1", "remoteUserId": "usr_2"})
        );
        let stop = WebhookCall::Stop {
            conversation: "tkt_1".into(),
        };
        assert_eq!(stop.body(), r#"{"remoteConversationId":"tkt_1"}"#);
        assert!(stop.route().repeatable() && !assigned.route().repeatable());
        assert_eq!(assigned.message(), None);
    }
}
