//! Files agents send: stored under the attachments folder and served at an
//! unguessable public URL, because Botpress fetches them without credentials.
//!
//! Only the types an admin allows are accepted, up to a size limit. What is served
//! can never run in our origin: media is served inline with its own type, anything
//! else as a download, and every response carries a sandboxing CSP.

use std::path::PathBuf;

use serde_json::json;

use crate::clock::now_ms;
use crate::{Error, Result, Services, ids};

/// Limits and place, from the server's configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    pub dir: PathBuf,
    pub max_bytes: usize,
    /// Allowed MIME types, lowercase (`image/png`); `image/*` allows a whole family.
    pub types: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/attachments"),
            max_bytes: 10 * 1024 * 1024,
            types: DEFAULT_TYPES.split(',').map(str::to_owned).collect(),
        }
    }
}

/// Media browsers and Botpress channels display, and common documents. No HTML or
/// SVG: both can carry script.
pub const DEFAULT_TYPES: &str = "image/png,image/jpeg,image/gif,image/webp,audio/mpeg,\
audio/ogg,audio/wav,audio/webm,audio/mp4,video/mp4,video/webm,application/pdf,text/plain,\
text/csv,application/zip,application/msword,\
application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Files received at once, across every agent; one more is refused (503, retry)
/// rather than queued. Agents send a file now and then: eight at once is a busy
/// team, and bounds what slow or hostile uploads can hold.
pub const MAX_UPLOADS: usize = 8;

/// A stored file, as the download route needs it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its bytes' key (`files`).
    pub key: String,
    pub name: String,
    pub content_type: String,
}

impl Stored {
    /// Whether browsers may show it inline (images, audio, video); else a download.
    pub fn inline(&self) -> bool {
        ["image/", "audio/", "video/"]
            .iter()
            .any(|p| self.content_type.starts_with(p))
    }
}

/// `Content-Type` without parameters, lowercase.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The Botpress message type a file goes out as.
pub fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    }
}

const SVG: &str = "image/svg+xml";

impl Limits {
    /// A family (`image/*`) never admits SVG: it is an image that can carry script,
    /// so it is allowed only when listed by name (`image/svg+xml`).
    fn allows(&self, content_type: &str) -> bool {
        let family = content_type.split('/').next().unwrap_or_default();
        self.types.iter().any(|t| {
            t == content_type
                || (content_type != SVG && t.strip_suffix("/*").is_some_and(|f| f == family))
        })
    }

    /// Refuses what is too big or of a type not allowed, with a message for people.
    pub fn check(&self, content_type: &str, size: usize) -> Result<String> {
        let content_type = self.check_type(content_type)?;
        if size == 0 {
            return Err(Error::invalid("the file is empty"));
        }
        if size > self.max_bytes {
            return Err(Error::invalid(format!(
                "the file is {} KB; the limit is {} KB",
                size.div_ceil(1024),
                self.max_bytes / 1024
            )));
        }
        Ok(content_type)
    }

    /// Refuses a type not allowed (before a byte of the file is read); the type
    /// without parameters, lowercase.
    pub fn check_type(&self, content_type: &str) -> Result<String> {
        let content_type = essence(content_type);
        if content_type.is_empty() || !self.allows(&content_type) {
            return Err(Error::invalid(format!(
                "files of type {:?} cannot be sent; allowed: {}",
                content_type,
                self.types.join(", ")
            )));
        }
        Ok(content_type)
    }
}

/// Whether `agent` may send a file to the ticket now: it is open and theirs. Asked
/// before the file is read, so nobody else's upload is ever received or stored.
pub async fn may_send(services: &Services, ticket: i64, agent: i64) -> Result<()> {
    let mut tx = services.store.read().await?;
    crate::tickets::commands::held_by(&mut *tx, ticket, agent).await?;
    Ok(())
}

/// A file name safe in a URL path and a `Content-Disposition` header.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// Stores a received file and sends it to the ticket's customer as one agent message
/// (image, audio, video or file by its type). Returns the message id. Only the
/// ticket's holder may send; on any refusal nothing is kept.
pub async fn send(
    services: &Services,
    ticket: i64,
    agent: i64,
    name: &str,
    content_type: &str,
    received: crate::files::Partial,
) -> Result<i64> {
    let limits = &services.settings.attachments;
    let content_type = limits.check(content_type, received.size())?;
    let name = safe_name(name);
    let key = ids::new_token()?;
    let size = i64::try_from(received.size()).unwrap_or(i64::MAX);
    received.store(services, &key).await?;
    let now = now_ms();
    let file = store::media::Attachment {
        key: &key,
        ticket,
        uploader: agent,
        name: &name,
        content_type: &content_type,
        size,
    };
    let recorded = match services.store.autocommit().await {
        Ok(mut tx) => tx.attachment_insert(&file, now).await,
        Err(e) => Err(e),
    };
    if let Err(e) = recorded {
        crate::files::remove(services, &key).await;
        return Err(e.into());
    }
    let url = services.link(&format!("/files/{key}/{name}"));
    let kind = kind_of(&content_type);
    let payload = match kind {
        "image" => json!({ "imageUrl": url }),
        "audio" => json!({ "audioUrl": url }),
        "video" => json!({ "videoUrl": url }),
        _ => json!({ "fileUrl": url, "title": name }),
    };
    match crate::tickets::send_message(services, ticket, agent, kind, &payload).await {
        Ok(message) => Ok(message),
        Err(e) => {
            // Not the holder, or closed: the file must not stay reachable.
            let forgotten = match services.store.autocommit().await {
                Ok(mut tx) => tx.attachment_delete(&key).await,
                Err(e) => Err(e),
            };
            if let Err(e) = forgotten {
                tracing::warn!(error = %e, "cannot forget a refused attachment");
            }
            crate::files::remove(services, &key).await;
            Err(e)
        }
    }
}

/// The stored file a public URL names. Keys are checked for shape first, so that no
/// request can name a path outside the folder.
pub async fn find(services: &Services, key: &str) -> Result<Stored> {
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound("file"));
    }
    // Agents' attachments, and the copies of customers' media (see `media`).
    let (name, content_type) = services
        .store
        .autocommit()
        .await?
        .file_by_key(key)
        .await?
        .ok_or(Error::NotFound("file"))?;
    Ok(Stored {
        key: key.to_owned(),
        name,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_check_size_and_type() {
        let limits = Limits {
            max_bytes: 1024,
            types: vec!["image/*".into(), "application/pdf".into()],
            ..Limits::default()
        };
        assert_eq!(
            limits.check("image/PNG; charset=x", 10).unwrap(),
            "image/png"
        );
        assert!(limits.check("application/pdf", 1024).is_ok());
        assert!(limits.check("application/pdf", 1025).is_err());
        assert!(limits.check("text/html", 10).is_err());
        assert!(limits.check("", 10).is_err());
        assert!(limits.check("image/png", 0).is_err());
        assert!(!Limits::default().allows("image/svg+xml"));
        assert!(
            limits.check("image/svg+xml", 10).is_err(),
            "image/* is not SVG"
        );
        let listed = Limits {
            types: vec!["image/*".into(), "image/svg+xml".into()],
            ..Limits::default()
        };
        assert!(
            listed.check("image/svg+xml", 10).is_ok(),
            "named, it is allowed"
        );
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\x\\report 2024.pdf"), "report_2024.pdf");
        assert_eq!(safe_name(".htaccess"), "htaccess");
        assert_eq!(safe_name("résumé\".pdf"), "r_sum__.pdf");
        assert_eq!(safe_name(""), "file");
        assert_eq!(kind_of("image/png"), "image");
        assert_eq!(kind_of("application/pdf"), "file");
    }
}
