//! Copies of the media customers and bots send, in Baton's attachment folder.
//!
//! A message's media URLs are queued in the transaction that stores the message, so
//! none is forgotten, and fetched afterwards by a worker: the 2xx to Botpress never
//! waits for a third-party host. A fetch uses the webhook client (public addresses
//! only, no redirects, unless `--allow-private-webhooks`), https only on the public
//! internet, a timeout, and the attachment size and type limits. A copy that cannot
//! be made stays a plain link: the page shows inline only what Baton serves itself.

use std::time::Duration;

use protocol::realtime::Change;
use serde_json::Value;
use store::media::{Pending, Stored};
use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::effects::{Effects, Holders, Worker};
use crate::{Error, Result, Services, attachments, ids};

/// Media fetched at once; more wait their turn.
const BATCH: i64 = 4;
/// A host gets this long to send the whole file.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
/// Links per message worth copying (a carousel may have many).
const MOST_PER_MESSAGE: usize = 10;
/// Longer URLs are not fetched (they stay links).
const LONGEST_URL: usize = 2048;

/// The media URLs of a Botpress payload of type `kind`.
pub fn urls(kind: &str, payload: &Value) -> Vec<String> {
    let field = |p: &Value, key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut found: Vec<String> = match kind {
        "image" => field(payload, "imageUrl").into_iter().collect(),
        "audio" => field(payload, "audioUrl").into_iter().collect(),
        "video" => field(payload, "videoUrl").into_iter().collect(),
        "file" => field(payload, "fileUrl").into_iter().collect(),
        "card" => field(payload, "imageUrl").into_iter().collect(),
        "carousel" => payload
            .get("items")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(|i| field(i, "imageUrl")).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    found.retain(|u| {
        let lower = u.to_ascii_lowercase();
        u.len() <= LONGEST_URL && (lower.starts_with("https://") || lower.starts_with("http://"))
    });
    found.dedup();
    found.truncate(MOST_PER_MESSAGE);
    found
}

/// Queues a message's media, in the transaction that stores it, and wakes the
/// worker once that commits.
pub(crate) async fn queue_in(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    ticket: i64,
    message: i64,
    kind: &str,
    payload: &Value,
    now: i64,
) -> Result<()> {
    let urls = urls(kind, payload);
    for url in &urls {
        tx.media_insert(message, ticket, url, now).await?;
    }
    if !urls.is_empty() {
        effects.wake(Worker::Media);
    }
    Ok(())
}

/// Fetches queued media until cancelled.
pub async fn run(services: Services, client: reqwest::Client, cancel: CancellationToken) {
    loop {
        // One process at a time copies, or two would fetch the same file.
        let holds = crate::jobs::holds(&services, crate::jobs::Job::Media, IDLE_LOOK).await;
        let batch = match holds {
            Ok(true) => next_batch(&services).await,
            Ok(false) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        match batch {
            Ok(batch) if !batch.is_empty() => {
                for item in batch {
                    copy(&services, &client, item).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "media: cannot read the queue"),
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = services.wakers.media.notified() => {}
            () = tokio::time::sleep(IDLE_LOOK) => {}
        }
    }
    crate::jobs::release(&services, crate::jobs::Job::Media).await;
}

/// How long the worker sleeps without a wake-up.
const IDLE_LOOK: Duration = Duration::from_secs(30);

async fn next_batch(services: &Services) -> Result<Vec<Pending>> {
    Ok(services
        .store
        .autocommit()
        .await?
        .media_pending(BATCH)
        .await?)
}

async fn copy(services: &Services, client: &reqwest::Client, item: Pending) {
    let now = now_ms();
    let outcome = fetch(services, client, &item.url).await;
    let written = async {
        let mut tx = services.store.autocommit().await?;
        match outcome {
            Ok((key, name, content_type, size)) => {
                let copy = Stored {
                    key: &key,
                    name: &name,
                    content_type: &content_type,
                    size,
                };
                tx.media_stored(item.id, &copy, now).await
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(media = item.id, reason, "media: kept as a link");
                tx.media_failed(item.id, &reason, now).await
            }
        }
    }
    .await;
    match written {
        // The open conversation reloads and shows the copy.
        Ok(_) => {
            if let Err(e) = announce_copy(services, &item).await {
                tracing::error!(error = ?e, media = item.id, "media: cannot announce the copy");
            }
        }
        Err(e) => tracing::error!(error = ?e, media = item.id, "media: cannot record the outcome"),
    }
}

/// Tells whoever may see the ticket that a copy is done: the open conversation
/// reloads and shows it.
async fn announce_copy(services: &Services, item: &Pending) -> Result<()> {
    let mut effects = Effects::new();
    let change = Change::MediaCopied {
        ticket: item.ticket.clone(),
        message: item.message,
    };
    let mut tx = services.store.autocommit().await?;
    effects
        .publish_ticket(
            &mut *tx,
            item.connection,
            Holders::Of(item.ticket_id),
            change,
        )
        .await?;
    drop(tx);
    services.apply(effects);
    Ok(())
}

/// Fetches one URL into the attachment folder: (key, name, content type, size).
async fn fetch(
    services: &Services,
    client: &reqwest::Client,
    url: &str,
) -> Result<(String, String, String, i64)> {
    let allow_private = services.settings.allow_private_webhooks;
    if !allow_private && !url.to_ascii_lowercase().starts_with("https://") {
        return Err(Error::invalid("only https links are copied"));
    }
    crate::webhook_guard::check_url(url, allow_private)?;
    let limits = &services.settings.attachments;
    let failed =
        |e: reqwest::Error| Error::invalid(format!("cannot fetch it: {}", e.without_url()));
    let mut response = client
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(failed)?;
    if !response.status().is_success() {
        return Err(Error::invalid(format!(
            "the host answered {}",
            response.status()
        )));
    }
    if response
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limits.max_bytes))
    {
        return Err(Error::invalid("larger than the attachment limit"));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if bytes.len() + chunk.len() > limits.max_bytes {
            return Err(Error::invalid("larger than the attachment limit"));
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = limits.check(&content_type, bytes.len())?;
    let name = attachments::safe_name(
        reqwest::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.next_back().map(str::to_owned))
            })
            .filter(|n| !n.is_empty())
            .as_deref()
            .unwrap_or("file"),
    );
    let key = ids::new_token()?;
    crate::files::put(services, &key, &bytes).await?;
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    Ok((key, name, content_type, size))
}

/// Where the browser finds each stored copy among `messages`: original URL → the
/// path Baton serves it at.
pub async fn copies(
    store: &dyn store::Store,
    messages: &[i64],
) -> Result<std::collections::HashMap<String, String>> {
    Ok(store
        .autocommit()
        .await?
        .media_copies(messages)
        .await?
        .into_iter()
        .map(|(url, key, name)| (url, format!("/files/{key}/{name}")))
        .collect())
}

/// A payload as the browser gets it: each media URL replaced by Baton's copy, or
/// by the plain link. Files Baton serves itself (agents' attachments) become paths
/// on Baton, so the page knows them as its own; only a URL that is exactly one of
/// them (`protocol::files::is_own_file`) does, so a bot's `<public URL>/files/../x`
/// stays an absolute link and is never shown inline.
pub fn localise(
    payload: &mut Value,
    copies: &std::collections::HashMap<String, String>,
    public_url: &str,
) {
    const KEYS: [&str; 4] = ["imageUrl", "audioUrl", "videoUrl", "fileUrl"];
    let origin = public_url.trim_end_matches('/');
    let fix = |v: &mut Value| {
        if let Some(url) = v.as_str() {
            if let Some(local) = copies.get(url) {
                *v = Value::String(local.clone());
            } else if let Some(path) = url
                .strip_prefix(origin)
                .filter(|path| protocol::files::is_own_file(path))
            {
                *v = Value::String(path.to_owned());
            }
        }
    };
    if let Some(object) = payload.as_object_mut() {
        for key in KEYS {
            if let Some(v) = object.get_mut(key) {
                fix(v);
            }
        }
        if let Some(items) = object.get_mut("items").and_then(Value::as_array_mut) {
            for item in items {
                if let Some(v) = item.get_mut("imageUrl") {
                    fix(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_media_of_each_message_type_are_found() {
        assert_eq!(
            urls("image", &json!({"imageUrl": "https://cdn.example/a.png"})),
            ["https://cdn.example/a.png"]
        );
        assert_eq!(
            urls("file", &json!({"fileUrl": "https://x/f.pdf", "title": "F"})),
            ["https://x/f.pdf"]
        );
        assert_eq!(
            urls(
                "carousel",
                &json!({"items": [{"imageUrl": "https://x/1.png"}, {"imageUrl": "https://x/2.png"}, {"title": "no image"}]})
            ),
            ["https://x/1.png", "https://x/2.png"]
        );
        assert!(urls("text", &json!({"text": "https://x/a.png"})).is_empty());
        assert!(urls("image", &json!({"imageUrl": "javascript:alert(1)"})).is_empty());
    }

    #[test]
    fn payloads_point_at_the_copies_and_at_our_own_files() {
        let copies = [(
            "https://cdn.example/a.png".to_owned(),
            "/files/abc/a.png".to_owned(),
        )]
        .into();
        let mut p = json!({"imageUrl": "https://cdn.example/a.png"});
        localise(&mut p, &copies, "https://baton.example.com");
        assert_eq!(p["imageUrl"], "/files/abc/a.png");
        let mut p = json!({"imageUrl": "https://elsewhere.example/b.png"});
        localise(&mut p, &copies, "https://baton.example.com");
        assert_eq!(
            p["imageUrl"], "https://elsewhere.example/b.png",
            "not copied: left as it is"
        );
        let key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let mut p = json!({"fileUrl": format!("https://baton.example.com/files/{key}/n.pdf")});
        localise(&mut p, &copies, "https://baton.example.com/");
        assert_eq!(p["fileUrl"], format!("/files/{key}/n.pdf"));
    }

    #[test]
    fn only_the_exact_path_of_our_own_file_is_made_local() {
        let copies = std::collections::HashMap::new();
        for url in [
            "https://baton.example.com/files/../api/v1/tickets/export.csv",
            "https://baton.example.com/files/k/n.pdf",
            // Another host whose name starts like ours.
            "https://baton.example.com.evil.example/files/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/n.pdf",
        ] {
            let mut p = json!({"imageUrl": url});
            localise(&mut p, &copies, "https://baton.example.com");
            assert_eq!(p["imageUrl"], url, "left as it is");
        }
    }

    #[test]
    fn the_files_baton_names_are_its_own() {
        // The shape the page trusts is the shape files are stored under.
        let key = crate::ids::new_token().unwrap();
        for name in [
            "../../etc/passwd",
            "report 2024.pdf",
            ".htaccess",
            "",
            "a..b",
        ] {
            let path = format!("/files/{key}/{}", attachments::safe_name(name));
            assert!(protocol::files::is_own_file(&path), "{path}");
        }
        let long = attachments::safe_name(&"n".repeat(300));
        assert!(protocol::files::is_own_file(&format!(
            "/files/{key}/{long}"
        )));
    }
}
