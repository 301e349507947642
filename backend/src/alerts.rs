//! Alerting agents that someone is waiting (the v12 module's "alert your agents").
//!
//! Browsers alert on the realtime events themselves; this holds the instance-wide
//! settings admins change (how long a ticket may wait unclaimed before it is
//! highlighted and alerts again, and an optional outgoing webhook) and posts
//! new-ticket alerts to that webhook, for example a team chat.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Error, Result, Services};

const KEY: &str = "alerts";

/// What admins set. The webhook URL is write-only towards browsers (chat webhook
/// URLs are credentials): pages only learn whether one is set, and its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// Minutes a queued ticket may wait before it is highlighted and alerts again.
    pub unclaimed_after_minutes: u32,
    pub webhook_url: Option<String>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            unclaimed_after_minutes: 5,
            webhook_url: None,
        }
    }
}

impl AlertSettings {
    /// The webhook's host, to show admins which one is set without revealing it.
    pub fn webhook_host(&self) -> Option<String> {
        let url = self.webhook_url.as_deref()?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        Some(rest.split(['/', '?']).next().unwrap_or_default().to_owned())
    }
}

pub async fn get(store: &dyn store::Store) -> Result<AlertSettings> {
    let raw = store.autocommit().await?.setting_get(KEY).await?;
    Ok(raw
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default())
}

/// A change from the admin page. `webhook_url`: `None` keeps the stored one, an
/// empty string removes it.
pub async fn set(store: &dyn store::Store, minutes: u32, webhook_url: Option<&str>) -> Result<()> {
    if !(1..=24 * 60).contains(&minutes) {
        return Err(Error::invalid(
            "the unclaimed threshold must be between 1 and 1440 minutes",
        ));
    }
    let mut settings = get(store).await?;
    settings.unclaimed_after_minutes = minutes;
    match webhook_url.map(str::trim) {
        None => {}
        Some("") => settings.webhook_url = None,
        Some(url) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
                return Err(Error::invalid("the alert webhook must be an http(s) URL"));
            }
            settings.webhook_url = Some(url.to_owned());
        }
    }
    let value = serde_json::to_string(&settings)
        .map_err(|e| Error::Internal(format!("alert settings: {e}")))?;
    let mut tx = store.write().await?;
    tx.setting_put(KEY, &value).await?;
    tx.commit().await?;
    Ok(())
}

/// Posts a new-ticket alert to the admin's webhook, if one is set, in the background:
/// an alert is a courtesy, and must never slow or fail the Botpress request.
pub fn new_ticket(services: &Services, ticket: &str, title: &str) {
    let services = services.clone();
    let ticket = ticket.to_owned();
    let title = title.to_owned();
    tokio::spawn(async move {
        let settings = match get(&*services.store).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = ?e, "cannot read the alert settings");
                return;
            }
        };
        let Some(url) = settings.webhook_url else {
            return;
        };
        if let Err(e) =
            crate::webhook_guard::check_url(&url, services.settings.allow_private_webhooks)
        {
            tracing::warn!(error = %e, "the alert webhook was not called");
            return;
        }
        let link = services.link(&format!("/inbox/{ticket}"));
        let shown = if title.trim().is_empty() {
            "A conversation".to_owned()
        } else {
            format!("\"{}\"", slack_escape(title.trim()))
        };
        // `text` is what Slack, Mattermost, Rocket.Chat and Teams-style incoming
        // webhooks display; the other fields are for programs.
        let body = json!({
            "text": format!("{shown} is waiting for an agent: {link}"),
            "event": "ticket_created",
            "ticket": ticket,
            "title": title,
            "url": link,
        });
        let sent = services
            .webhook_client
            .post(&url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(status = %r.status(), "the alert webhook refused an alert"),
            // The URL is a secret (it is the webhook's only key), and reqwest's
            // error text includes it.
            Err(e) => tracing::warn!(error = %e.without_url(), "cannot reach the alert webhook"),
        }
    });
}

/// Slack-style `text` is markup: `<…>` makes links and mentions (`<!channel>`), and
/// `&` starts an entity. A customer-chosen title must show as written, not ping a
/// channel or become a link.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cannot_add_slack_markup() {
        assert_eq!(
            slack_escape("<!channel> & <https://evil.example|click>"),
            "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
        );
    }

    #[test]
    fn only_the_host_of_the_webhook_is_shown() {
        let s = AlertSettings {
            unclaimed_after_minutes: 5,
            webhook_url: Some("https://hooks.slack.com/services/T0/B0/secret".into()),
        };
        assert_eq!(s.webhook_host().as_deref(), Some("hooks.slack.com"));
        assert_eq!(AlertSettings::default().webhook_host(), None);
    }
}
