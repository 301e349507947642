//! What a call to Baton's own integration carries. The outbox stores every call in
//! plus/hitl-api's shape (`WebhookCall::body`); for a connection to Baton's
//! integration it is rewritten when sent, with what that integration needs and
//! plus/hitl-api does not take: the ticket id and the Botpress conversation (so
//! nothing has to be looked up by guess), and the agent's name (the integration
//! creates a Botpress user per agent, shown to the customer).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::BATON_AGENT;
use crate::{Error, Result};

/// The agent a call speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// The agent's public id (`agt_…`), or `agt_baton` for Baton's own notices.
    pub id: String,
    pub name: String,
    /// Baton keeps no pictures of agents yet: always `null`.
    pub avatar_url: Option<String>,
}

/// The body as stored (plus/hitl-api's names).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    #[serde(default)]
    remote_user_id: Option<String>,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
}

/// The body Baton's integration receives.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sent<'a> {
    ticket_id: &'a str,
    conversation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<Agent>,
    /// An agent message's id in Baton: the integration creates it in Botpress once,
    /// however often it is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Value>,
}

/// The agent id a stored call names, if any (`/stop-hitl` names none).
pub fn agent_id(stored_body: &str) -> Result<Option<String>> {
    Ok(parse(stored_body)?.remote_user_id)
}

fn parse(stored_body: &str) -> Result<Stored> {
    serde_json::from_str(stored_body)
        .map_err(|e| Error::Internal(format!("a stored webhook call is malformed: {e}")))
}

/// Baton's own notices speak as Baton.
pub fn baton_itself() -> Agent {
    Agent {
        id: BATON_AGENT.to_owned(),
        name: "Baton".to_owned(),
        avatar_url: None,
    }
}

/// What a call is about, beside its stored body.
pub struct About<'a> {
    /// The ticket's id as Botpress knows it.
    pub ticket: &'a str,
    /// Its Botpress `hitl` conversation, once Baton has heard it.
    pub conversation: Option<&'a str>,
    pub agent: Option<Agent>,
    /// The agent message the call delivers.
    pub message: Option<i64>,
}

/// Rewrites a stored call for Baton's integration.
pub fn body(stored_body: &str, about: About<'_>) -> Result<String> {
    let stored = parse(stored_body)?;
    let sent = Sent {
        ticket_id: about.ticket,
        conversation_id: about.conversation,
        agent: about.agent,
        message_id: about.message.map(|id| id.to_string()),
        message_type: stored.message_type,
        payload: stored.payload,
    };
    serde_json::to_string(&sent)
        .map_err(|e| Error::Internal(format!("cannot write a webhook call: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::WebhookCall;
    use serde_json::json;

    #[test]
    fn stored_calls_become_what_the_integration_reads() {
        let reply = WebhookCall::MessageFromAgent {
            conversation: "tkt_1".into(),
            agent: "agt_2".into(),
            kind: "file".into(),
            payload: json!({"fileUrl": "https://b/files/x/y.pdf", "title": "y.pdf"}),
            message: 7,
        };
        assert_eq!(agent_id(&reply.body()).unwrap().as_deref(), Some("agt_2"));
        let agent = Agent {
            id: "agt_2".into(),
            name: "Ana".into(),
            avatar_url: None,
        };
        let about = About {
            ticket: "tkt_1",
            conversation: Some("conv_9"),
            agent: Some(agent.clone()),
            message: Some(7),
        };
        let sent: Value = serde_json::from_str(&body(&reply.body(), about).unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"ticketId": "tkt_1", "conversationId": "conv_9",
                   "agent": {"id": "agt_2", "name": "Ana", "avatarUrl": null},
                   "messageId": "7", "messageType": "file",
                   "payload": {"fileUrl": "https://b/files/x/y.pdf", "title": "y.pdf"}})
        );
        let stop = WebhookCall::Stop {
            conversation: "tkt_1".into(),
        };
        assert_eq!(agent_id(&stop.body()).unwrap(), None);
        let about = About {
            ticket: "tkt_1",
            conversation: None,
            agent: None,
            message: None,
        };
        let sent: Value = serde_json::from_str(&body(&stop.body(), about).unwrap()).unwrap();
        assert_eq!(sent, json!({"ticketId": "tkt_1", "conversationId": null}));
    }
}
