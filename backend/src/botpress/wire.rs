//! The JSON bodies plus/hitl-api sends, parsed strictly enough to reject nonsense with
//! a message naming the field, and loosely enough to accept everything Botpress really
//! sends: unknown keys are kept or ignored, `null` means absent, and an empty
//! createRemoteConversation payload is legal (docs/botpress.md §4, §5, §8.6).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{Error, Result};

/// Botpress tag values hold at most 500 characters; every id we accept must fit one.
pub const MAX_ID_LEN: usize = 500;

/// The five routes under a connection's endpoint base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Ping,
    CreateRemoteUser,
    CreateRemoteConversation,
    BotSendsMessage,
    CloseRemoteTicket,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Ping,
        Route::CreateRemoteUser,
        Route::CreateRemoteConversation,
        Route::BotSendsMessage,
        Route::CloseRemoteTicket,
    ];

    /// The path segment, which is also the body's `type`.
    pub fn name(self) -> &'static str {
        match self {
            Route::Ping => "ping",
            Route::CreateRemoteUser => "createRemoteUser",
            Route::CreateRemoteConversation => "createRemoteConversation",
            Route::BotSendsMessage => "botSendsMessage",
            Route::CloseRemoteTicket => "closeRemoteTicket",
        }
    }

    pub fn from_path(segment: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.name() == segment)
    }
}

/// `POST /ping`: sent when the integration is installed or its settings saved.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Ping {
    /// Always `ping`.
    #[serde(rename = "type")]
    #[schema(example = "ping")]
    pub kind: String,
}

/// `POST /createRemoteUser`: the end user, once per person (retries may repeat it).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRemoteUser {
    /// Always `createRemoteUser`.
    #[serde(rename = "type")]
    #[schema(example = "createRemoteUser")]
    pub kind: String,
    pub payload: RemoteUser,
}

/// The end user. Other keys (such as `role`) are accepted and ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteUser {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub picture_url: Option<String>,
}

/// `POST /createRemoteConversation`: a new handoff. Carries no customer identity.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRemoteConversation {
    /// Always `createRemoteConversation`.
    #[serde(rename = "type")]
    #[schema(example = "createRemoteConversation")]
    pub kind: String,
    /// Missing, `null` and `{}` all mean "no title, no description".
    #[serde(default)]
    pub payload: Option<RemoteConversation>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RemoteConversation {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /botSendsMessage`: a message in the handoff, from the customer or a plugin
/// notice (`remoteUserId` = `BOT`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotSendsMessage {
    /// Always `botSendsMessage`.
    #[serde(rename = "type")]
    #[schema(example = "botSendsMessage")]
    pub kind: String,
    /// The ticket id Baton returned from createRemoteConversation.
    #[schema(example = "tkt_3f9a0c1e2d4b5a697887766554433221")]
    pub remote_conversation_id: String,
    /// The customer id Baton returned from createRemoteUser, or `BOT`.
    #[schema(example = "cus_1b22e0aa000000000000000000000000")]
    pub remote_user_id: String,
    /// The Botpress message payload, kept whole: `type`, its fields, `userId`, and
    /// whatever else the user's channel added.
    #[schema(value_type = Object, example = json!({"type": "text", "text": "It still hasn't arrived", "userId": "user_01J"}))]
    pub payload: Map<String, Value>,
}

impl BotSendsMessage {
    /// The message type (`text`, `image`, …, or a type we do not know yet).
    pub fn message_type(&self) -> &str {
        self.payload
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Whether this is a plugin notice rather than the customer speaking (docs/botpress.md §4.5).
    pub fn is_from_bot(&self) -> bool {
        self.remote_user_id == "BOT"
    }
}

/// `POST /closeRemoteTicket`: Botpress ended the session (user typed `/end`, agent
/// assignment timed out, or the bot ran Stop HITL).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseRemoteTicket {
    /// Always `closeRemoteTicket`.
    #[serde(rename = "type")]
    #[schema(example = "closeRemoteTicket")]
    pub kind: String,
    pub payload: CloseTicketPayload,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloseTicketPayload {
    /// The downstream Botpress conversation id; no other call carries it.
    #[schema(example = "conv_01JAXAMPLE0000000000000000")]
    pub botpress_conversation_id: String,
}

/// The answer to the two create calls: Baton's id, always a JSON string.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Created {
    #[schema(example = "tkt_3f9a0c1e2d4b5a697887766554433221")]
    pub id: String,
}

/// The answer to the calls whose answer Botpress ignores.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Accepted {}

/// Parses a request body for `route`: JSON object, matching `type`, typed fields.
pub fn parse<T: DeserializeOwned>(route: Route, body: &[u8]) -> Result<T> {
    typed(parse_object(route, body)?)
}

/// Reads typed fields from a JSON value; the error names the field (`payload.title:
/// invalid type …`). Baton's own integration's routes read their bodies with it too.
pub fn typed<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::invalid(format!("invalid body: {inner}"))
        } else {
            Error::invalid(format!("{path}: {inner}"))
        }
    })
}

/// The checks every route shares. Also used for `/ping`, whose body has nothing else.
pub fn parse_object(route: Route, body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("the body is empty: expected a JSON object"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid(format!("the body is not valid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(Error::invalid("the body must be a JSON object"));
    };
    match object.get("type") {
        Some(Value::String(t)) if t == route.name() => Ok(value),
        Some(Value::String(t)) => Err(Error::invalid(format!(
            "type: expected {:?} on /{}, got {t:?}",
            route.name(),
            route.name()
        ))),
        Some(_) => Err(Error::invalid("type: must be a string")),
        None => Err(Error::invalid(format!(
            "type: missing; expected {:?}",
            route.name()
        ))),
    }
}

impl BotSendsMessage {
    pub fn validate(&self) -> Result<()> {
        check_id("remoteConversationId", &self.remote_conversation_id)?;
        check_id("remoteUserId", &self.remote_user_id)?;
        match self.payload.get("type") {
            Some(Value::String(t)) if !t.is_empty() => Ok(()),
            Some(Value::String(_)) => Err(Error::invalid("payload.type: must not be empty")),
            Some(_) => Err(Error::invalid("payload.type: must be a string")),
            None => Err(Error::invalid("payload.type: missing")),
        }
    }
}

impl CloseRemoteTicket {
    pub fn validate(&self) -> Result<()> {
        check_id(
            "payload.botpressConversationId",
            &self.payload.botpress_conversation_id,
        )
    }
}

/// An id Botpress or Baton made: non-empty, and short enough for a Botpress tag.
pub fn check_id(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(format!("{field}: must not be empty")));
    }
    if value.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!(
            "{field}: longer than {MAX_ID_LEN} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(err: Error) -> String {
        err.to_string()
    }

    #[test]
    fn names_the_field_with_the_wrong_type() {
        let err = parse::<CreateRemoteConversation>(
            Route::CreateRemoteConversation,
            br#"{"type":"createRemoteConversation","payload":{"title":5}}"#,
        )
        .unwrap_err();
        assert!(msg(err).starts_with("payload.title: invalid type"));
        let err = parse::<BotSendsMessage>(
            Route::BotSendsMessage,
            br#"{"type":"botSendsMessage","remoteConversationId":1,"remoteUserId":"u","payload":{}}"#,
        )
        .unwrap_err();
        let text = msg(err);
        assert!(
            text.starts_with("remoteConversationId: invalid type"),
            "{text}"
        );
    }

    #[test]
    fn type_must_match_the_route() {
        let err = parse_object(Route::Ping, br#"{"type":"closeRemoteTicket"}"#).unwrap_err();
        assert_eq!(
            msg(err),
            r#"type: expected "ping" on /ping, got "closeRemoteTicket""#
        );
        assert!(parse_object(Route::Ping, br#"{}"#).is_err());
        assert!(parse_object(Route::Ping, br#"[]"#).is_err());
        assert!(parse_object(Route::Ping, b"").is_err());
        assert!(parse_object(Route::Ping, b"\xff\xfe").is_err());
    }

    #[test]
    fn empty_or_null_conversation_payload_is_legal() {
        for body in [
            &br#"{"type":"createRemoteConversation"}"#[..],
            br#"{"type":"createRemoteConversation","payload":{}}"#,
            br#"{"type":"createRemoteConversation","payload":null}"#,
            br#"{"type":"createRemoteConversation","payload":{"title":null,"x":1}}"#,
        ] {
            let req: CreateRemoteConversation =
                parse(Route::CreateRemoteConversation, body).unwrap();
            let p = req.payload.unwrap_or_default();
            assert!(p.title.is_none() && p.description.is_none());
        }
    }

    #[test]
    fn messages_keep_every_payload_key() {
        let req: BotSendsMessage = parse(
            Route::BotSendsMessage,
            br#"{"type":"botSendsMessage","remoteConversationId":"tkt_1","remoteUserId":"cus_1",
                "payload":{"type":"carousel","items":[],"userId":"user_1","x-extra":true}}"#,
        )
        .unwrap();
        req.validate().unwrap();
        assert_eq!(req.message_type(), "carousel");
        assert_eq!(req.payload.len(), 4);
        assert!(!req.is_from_bot());
    }

    #[test]
    fn ids_must_be_non_empty_and_fit_a_tag() {
        let long = "x".repeat(501);
        let body = format!(
            r#"{{"type":"botSendsMessage","remoteConversationId":"{long}","remoteUserId":"BOT","payload":{{"type":"text","text":"hi"}}}}"#
        );
        let req: BotSendsMessage = parse(Route::BotSendsMessage, body.as_bytes()).unwrap();
        assert!(msg(req.validate().unwrap_err()).contains("longer than 500"));
        let req: BotSendsMessage = parse(
            Route::BotSendsMessage,
            br#"{"type":"botSendsMessage","remoteConversationId":"t","remoteUserId":"BOT","payload":{"text":"x"}}"#,
        )
        .unwrap();
        assert_eq!(msg(req.validate().unwrap_err()), "payload.type: missing");
    }
}
