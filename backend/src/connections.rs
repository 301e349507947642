//! Botpress connections: one per bot.
//!
//! A connection's public face ([`Connection`]) carries no secret. The webhook URL and
//! the Botpress access token live in [`Secrets`], which is not `Serialize`, so the type
//! system keeps them out of anything sent to a browser.

use protocol::integration::Integration;
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::clock::now_ms;
use crate::error::ResultExt;
use crate::{Error, Result, ids};

pub use store::connections::{Connection, Secrets, UnmappedClose};

pub struct NewConnection {
    pub name: String,
    pub webhook_url: String,
    pub botpress_bot_id: Option<String>,
    pub botpress_token: Option<String>,
}

/// A connection just created or re-keyed, with the token to paste into Botpress.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub connection: Connection,
    pub endpoint_token: String,
}

impl Keyed {
    /// The endpoint base URL the bot owner pastes into plus/hitl-api.
    pub fn endpoint_url(&self, public_url: &str) -> String {
        endpoint_url(public_url, &self.endpoint_token)
    }
}

pub fn endpoint_url(public_url: &str, token: &str) -> String {
    format!("{}/botpress/{token}", public_url.trim_end_matches('/'))
}

/// Checks a webhook URL: absolute http(s), no query or fragment (Botpress routes on
/// the exact path, and we append `/message-from-agent` etc. to it).
pub fn validate_webhook_url(raw: &str) -> Result<String> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::invalid(format!("webhook URL {raw:?} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(format!(
            "webhook URL {raw:?} must be an http(s) URL such as https://webhook.botpress.cloud/<id>"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!(
            "webhook URL {raw:?} must not have a query string or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn validate_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(
            "connection name must be 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A connection for plus/hitl-api: the bot owner copies its webhook URL in.
pub async fn create(store: &dyn store::Store, new: NewConnection) -> Result<Keyed> {
    let name = validate_name(&new.name)?;
    let webhook_url = validate_webhook_url(&new.webhook_url)?;
    let bot_id = non_empty(new.botpress_bot_id);
    let api_token = non_empty(new.botpress_token);
    insert(
        store,
        &name,
        Integration::HitlApi,
        &webhook_url,
        bot_id.as_deref(),
        api_token.as_deref(),
    )
    .await
}

/// A connection for Baton's own integration: nothing to copy in, its registration
/// brings the webhook URL.
pub async fn create_for_baton(store: &dyn store::Store, name: &str) -> Result<Keyed> {
    let name = validate_name(name)?;
    insert(store, &name, Integration::Baton, "", None, None).await
}

async fn insert(
    store: &dyn store::Store,
    name: &str,
    integration: Integration,
    webhook_url: &str,
    bot_id: Option<&str>,
    api_token: Option<&str>,
) -> Result<Keyed> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let row = store::connections::NewRow {
        name,
        endpoint_token: &token,
        endpoint_token_sha256: &digest,
        integration,
        webhook_url,
        botpress_bot_id: bot_id,
        botpress_token: api_token,
        at: now_ms(),
    };
    let mut tx = store.write().await?;
    let id = tx
        .connection_insert(&row)
        .await
        .on_unique(|| format!("a connection named {name:?} already exists"))?;
    let connection = get_in(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Keyed {
        connection,
        endpoint_token: token,
    })
}

pub async fn get(store: &dyn store::Store, id: i64) -> Result<Connection> {
    get_in(&mut *store.autocommit().await?, id).await
}

async fn get_in(tx: &mut dyn store::Tx, id: i64) -> Result<Connection> {
    tx.connection_get(id)
        .await?
        .ok_or(Error::NotFound("connection"))
}

pub async fn list(store: &dyn store::Store) -> Result<Vec<Connection>> {
    Ok(store.autocommit().await?.connections_all().await?)
}

pub async fn find_by_name(store: &dyn store::Store, name: &str) -> Result<Connection> {
    let mut tx = store.read().await?;
    let id = tx
        .connection_id_by_name(name)
        .await?
        .ok_or(Error::NotFound("connection"))?;
    get_in(&mut *tx, id).await
}

/// The connection a Botpress request is for, and the integration it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub integration: Integration,
}

/// The connection a Botpress request is for, by its endpoint token.
///
/// The lookup is by the token's SHA-256, so index timing reveals nothing about the
/// token; the final comparison is constant-time. `None` for any wrong token.
pub async fn authenticate(store: &dyn store::Store, token: &str) -> Result<Option<Endpoint>> {
    let digest = ids::token_digest(token);
    // Every Botpress request asks this: one read, no transaction.
    let row = store
        .autocommit()
        .await?
        .connection_by_token(&digest)
        .await?;
    Ok(row.and_then(|row| {
        bool::from(row.endpoint_token.as_bytes().ct_eq(token.as_bytes())).then_some(Endpoint {
            id: row.id,
            integration: row.integration,
        })
    }))
}

pub async fn secrets(store: &dyn store::Store, id: i64) -> Result<Secrets> {
    secrets_in(&mut *store.autocommit().await?, id).await
}

/// [`secrets`] inside a transaction.
pub async fn secrets_in(tx: &mut dyn store::Tx, id: i64) -> Result<Secrets> {
    tx.connection_secrets(id)
        .await?
        .ok_or(Error::NotFound("connection"))
}

/// Issues a new endpoint token; the old one stops working at once.
pub async fn rotate_token(store: &dyn store::Store, id: i64) -> Result<Keyed> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let mut tx = store.write().await?;
    if !tx
        .connection_set_endpoint_token(id, &token, &digest)
        .await?
    {
        return Err(Error::NotFound("connection"));
    }
    let connection = get_in(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Keyed {
        connection,
        endpoint_token: token,
    })
}

/// The endpoint URL for an existing connection (admins may look it up again).
pub async fn endpoint_token(store: &dyn store::Store, id: i64) -> Result<String> {
    store
        .autocommit()
        .await?
        .connection_endpoint_token(id)
        .await?
        .ok_or(Error::NotFound("connection"))
}

/// Sets or clears the Botpress API credentials. Returns whether both are now set.
pub async fn set_api_credentials(
    store: &dyn store::Store,
    id: i64,
    bot_id: Option<String>,
    token: Option<String>,
) -> Result<bool> {
    let bot_id = non_empty(bot_id);
    let token = non_empty(token);
    let complete = bot_id.is_some() && token.is_some();
    let mut tx = store.write().await?;
    if !tx
        .connection_set_api_credentials(id, bot_id.as_deref(), token.as_deref())
        .await?
    {
        return Err(Error::NotFound("connection"));
    }
    tx.commit().await?;
    Ok(complete)
}

/// Sets the plugin's end-of-session notice text (docs/botpress.md §9.3: configurable by the
/// bot builder; `NULL` there disables it, and then only the API can map closes).
pub async fn set_end_notice(store: &dyn store::Store, id: i64, text: &str) -> Result<()> {
    let text = end_notice(text)?;
    let mut tx = store.write().await?;
    if !tx.connection_set_end_notice(id, text).await? {
        return Err(Error::NotFound("connection"));
    }
    tx.commit().await?;
    Ok(())
}

fn end_notice(raw: &str) -> Result<&str> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > 1000 {
        return Err(Error::invalid(
            "the end notice must be 1 to 1000 characters",
        ));
    }
    Ok(text)
}

/// An admin's edit of a connection. The secret fields are write-only: `None` (or a
/// blank) keeps what is stored, so the form never needs to show them.
#[derive(Debug, Default)]
pub struct Edit {
    pub name: String,
    pub webhook_url: Option<String>,
    pub botpress_bot_id: Option<String>,
    pub botpress_token: Option<String>,
    /// Removes the stored bot id and access token.
    pub clear_api_credentials: bool,
    pub end_notice_text: String,
}

/// Applies an [`Edit`]. Returns whether API credentials are now complete and were
/// just changed (the caller then wakes the Botpress sync).
pub async fn update(store: &dyn store::Store, id: i64, edit: Edit) -> Result<bool> {
    let name = validate_name(&edit.name)?;
    let webhook_url = non_empty(edit.webhook_url)
        .map(|u| validate_webhook_url(&u))
        .transpose()?;
    let end_notice = end_notice(&edit.end_notice_text)?;
    let mut tx = store.write().await?;
    let current = secrets_in(&mut *tx, id).await?;
    if current.integration == Integration::Baton && webhook_url.is_some() {
        return Err(Error::invalid(
            "Baton's integration brings its own webhook URL when it registers; \
             save the integration's configuration in Botpress instead",
        ));
    }
    let (bot_id, token) = if edit.clear_api_credentials {
        (None, None)
    } else {
        (
            non_empty(edit.botpress_bot_id).or(current.botpress_bot_id.clone()),
            non_empty(edit.botpress_token).or(current.botpress_token.clone()),
        )
    };
    let credentials_changed = bot_id != current.botpress_bot_id || token != current.botpress_token;
    let webhook_url = webhook_url.unwrap_or(current.webhook_url);
    let row = store::connections::EditRow {
        name: &name,
        webhook_url: &webhook_url,
        botpress_bot_id: bot_id.as_deref(),
        botpress_token: token.as_deref(),
        end_notice_text: end_notice,
    };
    tx.connection_update(id, &row)
        .await
        .on_unique(|| format!("a connection named {name:?} already exists"))?;
    tx.commit().await?;
    Ok(credentials_changed && bot_id.is_some() && token.is_some())
}

/// The close requests of a connection that are not matched to a ticket, newest first.
pub async fn unmapped_closes(store: &dyn store::Store, id: i64) -> Result<Vec<UnmappedClose>> {
    Ok(store
        .autocommit()
        .await?
        .connection_unmapped_closes(id)
        .await?)
}

/// The answer to "Test connection".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub ok: bool,
    pub message: String,
}

/// Tests a connection without side effects on the bot. With API credentials, one
/// read-only Botpress API call proves the bot id and token. Without, the webhook's
/// host must resolve and accept a TCP connection: the webhook itself is never
/// called, because every call to it acts on a conversation.
pub async fn check(services: &crate::Services, id: i64) -> Result<CheckResult> {
    let secrets = secrets(&*services.store, id).await?;
    // Baton's integration: only a registered one has anything to test.
    if let Some(why) = not_callable(&secrets) {
        return Ok(CheckResult {
            ok: false,
            message: format!("{why}."),
        });
    }
    if let Some((bot_id, token)) = secrets.api_credentials() {
        let creds = crate::botpress::api::Credentials { bot_id, token };
        return Ok(match services.api.check(creds).await {
            Ok(()) => CheckResult {
                ok: true,
                message: "The Botpress API accepted the bot id and access token.".into(),
            },
            Err(e) => CheckResult {
                ok: false,
                message: format!("{e}."),
            },
        });
    }
    let url = reqwest::Url::parse(&secrets.webhook_url)
        .map_err(|_| Error::invalid("the stored webhook URL is not valid; set it again"))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let allow_private = services.settings.allow_private_webhooks;
    let refused = |e: Error| CheckResult {
        ok: false,
        message: format!("{e}."),
    };
    if let Err(e) = crate::webhook_guard::check_url(&secrets.webhook_url, allow_private) {
        return Ok(refused(e));
    }
    // The same rule as the webhook calls: only public addresses, unless allowed.
    let target = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .ok()
        .and_then(|mut found| {
            found.find(|a| allow_private || crate::webhook_guard::is_public(a.ip()))
        });
    let Some(target) = target else {
        return Ok(refused(Error::invalid(format!(
            "{host} does not resolve to a public address; Baton sends webhooks only to \
             public addresses unless it is started with --allow-private-webhooks"
        ))));
    };
    let connect = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(target),
    )
    .await;
    // The outcome only, not the system's error text: what a refused or filtered
    // port says is nobody's business.
    Ok(match connect {
        Ok(Ok(_)) => CheckResult {
            ok: true,
            message: format!(
                "The webhook host {host} is reachable. Add the bot id and an access token \
                 to check them too."
            ),
        },
        Ok(Err(_)) => CheckResult {
            ok: false,
            message: format!("Cannot reach the webhook host {host}."),
        },
        Err(_) => CheckResult {
            ok: false,
            message: format!("The webhook host {host} did not answer within 5 s."),
        },
    })
}

/// Said of a connection to Baton's integration that never registered.
pub const NOT_REGISTERED: &str = "Baton's integration has not registered yet: install it on \
                                  the bot with this connection's endpoint URL";

/// Why Baton's integration cannot be called now, if it cannot: it never registered,
/// or it was uninstalled. Said to admins and on failed deliveries.
pub fn not_callable(secrets: &Secrets) -> Option<&'static str> {
    if secrets.integration != Integration::Baton {
        return None;
    }
    if secrets.unregistered {
        Some(
            "Baton's integration was uninstalled from the bot; nothing is sent to it until \
             it is installed again",
        )
    } else if secrets.webhook_url.is_empty() || secrets.signing_key.is_none() {
        Some(NOT_REGISTERED)
    } else {
        None
    }
}

/// Remembers how the last webhook call went, for the connection's health.
pub async fn record_outbound(store: &dyn store::Store, id: i64, error: Option<&str>) -> Result<()> {
    let mut tx = store.autocommit().await?;
    tx.connection_outbound(id, now_ms(), error).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_checked() {
        assert_eq!(
            validate_webhook_url("https://webhook.botpress.cloud/abc/").unwrap(),
            "https://webhook.botpress.cloud/abc"
        );
        assert!(validate_webhook_url("webhook.botpress.cloud/abc").is_err());
        assert!(validate_webhook_url("ftp://x/abc").is_err());
        assert!(validate_webhook_url("https://x/abc?token=1").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = Secrets {
            webhook_url: "https://webhook.botpress.cloud/secret-id".into(),
            botpress_bot_id: Some("bot".into()),
            botpress_token: Some("bp_pat_secret".into()),
            integration: Integration::Baton,
            signing_key: Some("signing-secret".into()),
            unregistered: false,
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("secret-id")
                && !shown.contains("bp_pat_secret")
                && !shown.contains("signing-secret"),
            "{shown}"
        );
    }

    #[test]
    fn endpoint_url_joins_cleanly() {
        assert_eq!(
            endpoint_url("https://b.example/", "t"),
            "https://b.example/botpress/t"
        );
    }
}
