//! The JSON bodies Baton's own Botpress integration (`botpress-integration/`, HITL
//! interface 2.1) sends under the same endpoint URL as plus/hitl-api, and Baton's
//! answers (docs/botpress.md §15.2). Field errors name the field.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{Error, Result};

/// The routes Baton's integration calls, beside plus/hitl-api's five.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Register,
    Unregister,
    CreateUser,
    StartHitl,
    Message,
    StopHitl,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::Register,
        Route::Unregister,
        Route::CreateUser,
        Route::StartHitl,
        Route::Message,
        Route::StopHitl,
    ];

    /// The path segment.
    pub fn name(self) -> &'static str {
        match self {
            Route::Register => "register",
            Route::Unregister => "unregister",
            Route::CreateUser => "createUser",
            Route::StartHitl => "startHitl",
            Route::Message => "message",
            Route::StopHitl => "stopHitl",
        }
    }

    pub fn from_path(segment: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.name() == segment)
    }
}

/// `POST /register`: the integration was installed or its configuration saved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    /// Where Baton calls the integration: `https://webhook.botpress.cloud/<webhookId>`.
    #[schema(example = "https://webhook.botpress.cloud/4f0c2a9e-7b1d-4c55-9a3e-1d2b3c4d5e6f")]
    pub webhook_url: String,
    /// The bot the integration is installed on (shown to admins).
    #[serde(default)]
    pub bot_id: Option<String>,
}

/// The answer to `/register`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// The key Baton signs its calls with (HMAC-SHA256, docs/botpress.md §15.2). It
    /// stays the same across registrations, so calls in flight stay valid.
    #[schema(example = "9c1f0e7a5b3d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4")]
    pub signing_key: String,
    /// The connection's name in Baton.
    #[schema(example = "Support bot")]
    pub connection: String,
}

/// `POST /unregister`: the integration was uninstalled from the bot.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unregister {
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// `POST /createUser`: the end user, found or created in Botpress first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    /// The Botpress user the integration created or found for this person.
    #[schema(example = "user_01JAXAMPLE0000000000000000")]
    pub botpress_user_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub picture_url: Option<String>,
}

/// The answer to `/createUser`: the same email is the same customer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    #[schema(example = "cus_1b22e0aa000000000000000000000000")]
    pub customer_id: String,
}

/// `POST /startHitl`: a handoff, with everything said before it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartHitl {
    /// The customer `/createUser` returned.
    #[schema(example = "cus_1b22e0aa000000000000000000000000")]
    pub customer_id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `low`, `normal`, `high` or `urgent` (hitlSession.priority).
    #[serde(default)]
    #[schema(example = "high")]
    pub priority: Option<String>,
    /// A team's name (hitlSession.team): the ticket waits in that team's queue.
    #[serde(default)]
    #[schema(example = "Billing")]
    pub team: Option<String>,
    /// Every message before the handoff, oldest first, as the HITL plugin gives them.
    pub message_history: Vec<HistoryMessage>,
}

/// One message of the conversation before the handoff.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HistoryMessage {
    pub source: Source,
    /// Any Botpress message type (`text`, `image`, …, `carousel`, `markdown`).
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: String,
    /// Kept whole.
    #[schema(value_type = Object, example = json!({"text": "Where is my order?"}))]
    pub payload: Map<String, Value>,
}

/// Who said a history message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Source {
    /// The end user.
    User {
        #[serde(default, rename = "userId")]
        user_id: Option<String>,
    },
    /// The bot.
    Bot,
}

/// The answer to `/startHitl`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HitlStarted {
    /// The ticket; the integration tags the Botpress `hitl` conversation with it.
    #[schema(example = "tkt_3f9a0c1e2d4b5a697887766554433221")]
    pub ticket_id: String,
}

/// `POST /message`: a message in the `hitl` conversation, from the customer or a bot
/// notice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[schema(example = "tkt_3f9a0c1e2d4b5a697887766554433221")]
    pub ticket_id: String,
    /// The Botpress `hitl` conversation; Baton remembers it on the ticket.
    #[serde(default)]
    #[schema(example = "conv_01JAXAMPLE0000000000000000")]
    pub conversation_id: Option<String>,
    /// Botpress's message id: a message delivered twice is stored once.
    #[schema(example = "msg_01JAXAMPLE0000000000000000")]
    pub message_id: String,
    pub from: Speaker,
    /// Required when `from` is `customer`.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// `text`, `image`, `audio`, `video`, `file` or `bloc`.
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: String,
    /// Kept whole, `userId` and `additionalData` included.
    #[schema(value_type = Object, example = json!({"text": "It still hasn't arrived"}))]
    pub payload: Map<String, Value>,
}

/// Who wrote a `/message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    /// A notice the bot or the HITL plugin wrote into the conversation.
    Bot,
}

/// `POST /stopHitl`: the bot ended the handoff.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopHitl {
    #[schema(example = "tkt_3f9a0c1e2d4b5a697887766554433221")]
    pub ticket_id: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Why, when the integration can tell; `bot_stopped` otherwise.
    #[serde(default)]
    pub reason: Option<StopReason>,
}

/// Why the bot ended a handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The customer left (the plugin's termination command).
    CustomerEnded,
    /// The bot stopped it (its flow, a timeout, the close action).
    BotStopped,
}

/// Parses a body: a JSON object with typed fields; the error names the field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("the body is empty: expected a JSON object"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::invalid("the body must be a JSON object"));
    }
    crate::botpress::wire::typed(value)
}

pub use crate::botpress::wire::check_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_sources_and_payloads_parse() {
        let start: StartHitl = parse(
            br#"{"customerId":"cus_1","messageHistory":[
                {"source":{"type":"user","userId":"user_1"},"type":"text","payload":{"text":"hi"}},
                {"source":{"type":"bot"},"type":"carousel","payload":{"items":[]}}]}"#,
        )
        .unwrap();
        assert_eq!(start.message_history.len(), 2);
        assert!(matches!(
            start.message_history[0].source,
            Source::User { ref user_id } if user_id.as_deref() == Some("user_1")
        ));
        assert!(matches!(start.message_history[1].source, Source::Bot));
        assert_eq!(start.message_history[1].kind, "carousel");
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse::<StartHitl>(br#"{"customerId":"cus_1"}"#).unwrap_err();
        assert!(err.to_string().contains("messageHistory"), "{err}");
        let err = parse::<Message>(
            br#"{"ticketId":"tkt_1","messageId":"m","from":"agent","type":"text","payload":{}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("from: unknown variant"),
            "{err}"
        );
        let err = parse::<StartHitl>(
            br#"{"customerId":"c","messageHistory":[{"source":{"type":"x"},"type":"text","payload":{}}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("messageHistory[0].source"),
            "{err}"
        );
        assert!(parse::<Register>(b"[]").is_err());
        assert!(parse::<Register>(b" ").is_err());
    }

    #[test]
    fn routes_do_not_collide_with_hitl_api() {
        for route in Route::ALL {
            assert_eq!(Route::from_path(route.name()), Some(route));
            assert!(super::super::super::wire::Route::from_path(route.name()).is_none());
        }
    }
}
