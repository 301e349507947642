//! The few Botpress Runtime API calls Baton makes (docs/botpress.md §9.2), with a bot id and a
//! personal access token: find the downstream conversation of a ticket, read one
//! conversation, list the messages of the customer's conversation, and read a user
//! (the customer's attributes, for the customer page).

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// Pages read at most per listing: a new ticket's conversation is among the newest,
/// and a transcript longer than this is cut (the newest part is what matters least,
/// the whole handoff context is in the oldest part, so pages are read oldest-first
/// where the API allows and the cut is logged).
const MAX_PAGES: usize = 5;

#[derive(Clone, Debug)]
pub struct Api {
    client: reqwest::Client,
    base_url: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// Network trouble, 429 or 5xx: worth trying again later.
    Transient(String),
    /// 401, 403 or another 4xx: trying again will not help until something changes.
    Refused(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Transient(m) | ApiError::Refused(m) => f.write_str(m),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub tags: HashMap<String, String>,
}

impl Conversation {
    /// Our ticket id, stored by hitl-api as its `externalId` tag. The bot sees it with
    /// the integration's prefix (`<prefix>:externalId`), which is not documented, so
    /// any key ending that way counts.
    pub fn external_id(&self) -> Option<&str> {
        self.tag(|k| k == "externalId" || k.ends_with(":externalId"))
    }

    /// The customer's own conversation, tagged by the HITL plugin (`hitl#upstream`).
    pub fn upstream(&self) -> Option<&str> {
        self.tag(|k| k == "upstream" || k.ends_with("#upstream"))
    }

    fn tag(&self, key: impl Fn(&str) -> bool) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, v)| key(k) && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub payload: Value,
    /// `incoming` (from the customer) or `outgoing` (from the bot).
    #[serde(default)]
    pub direction: Option<String>,
}

/// A Botpress user: what the bot knows about a person, its tags above all.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tags: HashMap<String, String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl User {
    /// The customer's own user (`hitl#upstream`), when this is the proxy user
    /// hitl-api created for them.
    pub fn upstream(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, v)| (*k == "upstream" || k.ends_with("#upstream")) && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Deserialize)]
struct OneUser {
    user: User,
}

#[derive(Deserialize)]
struct OneConversation {
    conversation: Conversation,
}

#[derive(Deserialize)]
struct Conversations {
    #[serde(default)]
    conversations: Vec<Conversation>,
    #[serde(default)]
    meta: Meta,
}

#[derive(Deserialize)]
struct Messages {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    meta: Meta,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    next_token: Option<String>,
}

/// A bot id and access token.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub bot_id: &'a str,
    pub token: &'a str,
}

impl Api {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = crate::http_client::client()
            .user_agent(concat!("Baton/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        path: &str,
        query: &[(&str, &str)],
    ) -> ApiResult<Option<T>> {
        let url = format!("{}{path}", self.base_url);
        let response = self
            .client
            .get(&url)
            .bearer_auth(creds.token)
            .header("x-bot-id", creds.bot_id)
            .query(query)
            .send()
            .await
            .map_err(|e| {
                ApiError::Transient(format!(
                    "cannot reach the Botpress API: {}",
                    e.without_url()
                ))
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(ApiError::Transient(format!(
                "the Botpress API answered {status}"
            )));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(ApiError::Refused(format!(
                "the Botpress API refused the bot id or access token ({status})"
            )));
        }
        if !status.is_success() {
            return Err(ApiError::Refused(format!(
                "the Botpress API answered {status}"
            )));
        }
        response.json::<T>().await.map(Some).map_err(|e| {
            ApiError::Refused(format!(
                "unexpected answer from the Botpress API: {}",
                e.without_url()
            ))
        })
    }

    /// `GET /v1/chat/conversations/{id}`; `None` when Botpress does not know it.
    pub async fn conversation(
        &self,
        creds: Credentials<'_>,
        id: &str,
    ) -> ApiResult<Option<Conversation>> {
        let path = format!("/v1/chat/conversations/{}", encode_segment(id));
        Ok(self
            .get::<OneConversation>(creds, &path, &[])
            .await?
            .map(|c| c.conversation))
    }

    /// `GET /v1/chat/users/{id}`; `None` when Botpress does not know it.
    pub async fn user(&self, creds: Credentials<'_>, id: &str) -> ApiResult<Option<User>> {
        let path = format!("/v1/chat/users/{}", encode_segment(id));
        Ok(self
            .get::<OneUser>(creds, &path, &[])
            .await?
            .map(|u| u.user))
    }

    /// The `hitl` conversation hitl-api tagged with our ticket id (docs/botpress.md §9.2,
    /// proactive variant), searched among the newest hitl conversations.
    pub async fn conversation_for_ticket(
        &self,
        creds: Credentials<'_>,
        remote_id: &str,
    ) -> ApiResult<Option<Conversation>> {
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("channel", "hitl"),
                ("sortField", "createdAt"),
                ("sortDirection", "desc"),
            ];
            if let Some(token) = &next {
                query.push(("nextToken", token.as_str()));
            }
            let Some(page) = self
                .get::<Conversations>(creds, "/v1/chat/conversations", &query)
                .await?
            else {
                return Ok(None);
            };
            if let Some(found) = page
                .conversations
                .into_iter()
                .find(|c| c.external_id() == Some(remote_id))
            {
                return Ok(Some(found));
            }
            match page.meta.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Checks a bot id and access token with the cheapest authenticated call (one
    /// page of one hitl conversation).
    pub async fn check(&self, creds: Credentials<'_>) -> ApiResult<()> {
        self.get::<serde_json::Value>(
            creds,
            "/v1/chat/conversations",
            &[("channel", "hitl"), ("limit", "1")],
        )
        .await?;
        Ok(())
    }

    /// Messages of a conversation, oldest first.
    pub async fn messages(
        &self,
        creds: Credentials<'_>,
        conversation: &str,
    ) -> ApiResult<Vec<Message>> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        for page_number in 0..MAX_PAGES {
            let mut query = vec![("conversationId", conversation)];
            if let Some(token) = &next {
                query.push(("nextToken", token.as_str()));
            }
            let Some(page) = self
                .get::<Messages>(creds, "/v1/chat/messages", &query)
                .await?
            else {
                break;
            };
            all.extend(page.messages);
            match page.meta.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => break,
            }
            if page_number + 1 == MAX_PAGES {
                tracing::warn!(
                    conversation,
                    "transcript longer than {MAX_PAGES} pages; cut"
                );
            }
        }
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(all)
    }
}

/// Percent-encodes a path segment (Botpress ids are plain, but the id comes from a
/// request and must not be able to change the path).
fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Milliseconds since the epoch from Botpress's `2026-03-02T14:01:07.000Z`.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    let raw = raw.strip_suffix('Z')?;
    let (date, time) = raw.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    let millis = format!("{fraction:0<3}").get(..3)?.parse::<i64>().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days since 1970-01-01 in the proleptic Gregorian calendar (shifting the year to
    // start in March puts the leap day last).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_to_epoch_millis() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-03-02T14:01:07.250Z"),
            Some(1_772_460_067_250)
        );
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        assert_eq!(parse_timestamp("not a date"), None);
    }

    #[test]
    fn tags_are_found_whatever_the_prefix() {
        let c: Conversation = serde_json::from_value(serde_json::json!({
            "id": "conv_1",
            "tags": {"plus/hitl-api:externalId": "tkt_1", "hitl#upstream": "conv_up"}
        }))
        .unwrap();
        assert_eq!(c.external_id(), Some("tkt_1"));
        assert_eq!(c.upstream(), Some("conv_up"));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_segment("conv_01J"), "conv_01J");
        assert_eq!(encode_segment("../x?y"), "..%2Fx%3Fy");
    }
}
