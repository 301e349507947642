//! "Who is here" across replicas, on PostgreSQL: each replica tells the others who
//! has a ticket open there (and who of them is typing) by `NOTIFY` on
//! [`HERE_CHANNEL`], as soon as that changes and again every [`BEAT`] for every
//! ticket someone has open. What a replica said holds for [`ALIVE_FOR`], so a
//! replica that dies drops out of every ticket then, and a notice lost while a
//! listener reconnects is made good by the next repeat.
//!
//! Like the seats themselves, nothing is stored: the notices carry the present, and
//! only the replicas listening now need it. A replica that starts asks the others to
//! repeat theirs at once, so its agents see their colleagues without waiting a beat.
//!
//! Any role that can connect to the database can `NOTIFY` on its channels, so a
//! notice is signed (HMAC-SHA256) with a key kept in Baton's `settings` table, which
//! only Baton's own role reads. A notice without the right signature, or one that
//! does not parse, is ignored: it can neither seat a stranger nor empty a ticket.

use std::time::Duration;

use protocol::realtime::Viewer;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use store::events::{HERE_CHANNEL, NOTICE_MAX_BYTES};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use subtle::ConstantTimeEq;

use super::fleet::{ALIVE_FOR, BEAT};
use crate::clock::now_ms;
use crate::{Result, Services, ids};

/// The `settings` key of the notices' signing key (64 hex digits, made once).
pub const KEY_SETTING: &str = "replica_notice_key";

/// Room for the signature, the time and their spaces, in front of every notice.
const SIGNATURE_BYTES: usize = 64 + 1 + 20 + 1;

/// How far a notice's time may be from a replica's clock (ms). A notice is heard
/// once, when sent: an old one replayed by a role that listens too is ignored.
const FRESH_MS: i64 = 30_000;

/// What one replica tells the others (JSON, between replicas of one build; one this
/// build cannot read, from a newer one during a rolling upgrade, is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
enum Notice {
    /// Who has `ticket` open on `replica` now (nobody: nobody there any more).
    Seats {
        replica: String,
        ticket: String,
        people: Vec<Viewer>,
    },
    /// `replica` started: the others repeat theirs now.
    Started { replica: String },
    /// `replica` is stopping: its people are gone.
    Stopped { replica: String },
}

impl Notice {
    fn replica(&self) -> &str {
        match self {
            Notice::Seats { replica, .. }
            | Notice::Started { replica }
            | Notice::Stopped { replica } => replica,
        }
    }
}

/// The notice as sent at `at` (ms): its signature (of the rest), the time and its
/// JSON, separated by spaces. PostgreSQL caps a notice's size: a ticket with more
/// people than fit (dozens of long names on one replica) is told with those that do.
fn encode(notice: Notice, key: &[u8], at: i64) -> String {
    let mut notice = notice;
    loop {
        // A notice of strings and booleans always serialises.
        let text = serde_json::to_string(&notice).unwrap_or_default();
        match &mut notice {
            Notice::Seats { people, .. }
                if text.len() + SIGNATURE_BYTES > NOTICE_MAX_BYTES && !people.is_empty() =>
            {
                people.pop();
            }
            _ => {
                let signed = format!("{at} {text}");
                return format!("{} {signed}", ids::keyed_digest(key, signed.as_bytes()));
            }
        }
    }
}

/// The notice in `payload`, if it carries this installation's signature, was sent
/// around `now` (ms) and parses.
fn decode(payload: &str, key: &[u8], now: i64) -> Option<Notice> {
    let (signature, signed) = payload.split_once(' ')?;
    let expected = ids::keyed_digest(key, signed.as_bytes());
    if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        tracing::debug!("who is here: a notice without this installation's signature");
        return None;
    }
    let (at, text) = signed.split_once(' ')?;
    let fresh = at
        .parse::<i64>()
        .is_ok_and(|at| now.abs_diff(at) <= FRESH_MS.unsigned_abs());
    if !fresh {
        tracing::debug!("who is here: a stale notice (replayed?)");
        return None;
    }
    match serde_json::from_str::<Notice>(text) {
        Ok(notice) => Some(notice),
        Err(e) => {
            tracing::debug!(error = %e, "who is here: a notice this version cannot read");
            None
        }
    }
}

/// The signing key the replicas share, made by the first that asks. Under the
/// write lock, so two replicas starting at once cannot each make one.
async fn signing_key(services: &Services) -> Result<Vec<u8>> {
    let mut tx = services.store.write().await?;
    let stored = tx
        .setting_get(KEY_SETTING)
        .await?
        .and_then(|json| serde_json::from_str::<String>(&json).ok());
    let key = match stored {
        Some(key) => key,
        None => {
            let key = ids::new_token()?;
            tx.setting_put(
                KEY_SETTING,
                &serde_json::Value::String(key.clone()).to_string(),
            )
            .await?;
            key
        }
    };
    tx.commit().await?;
    Ok(key.into_bytes())
}

/// Tells the others and hears them until `cancel` fires; `changed` brings the
/// tickets whose people changed here (from [`super::Hub::announce_here`]).
pub async fn run(
    pool: sqlx::PgPool,
    services: Services,
    mut changed: mpsc::UnboundedReceiver<String>,
    cancel: CancellationToken,
) {
    let me = services.replica().to_owned();
    let key = loop {
        match signing_key(&services).await {
            Ok(key) => break key,
            Err(e) => {
                tracing::warn!(error = ?e, "who is here: cannot read the signing key; retrying");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let mut listener: Option<PgListener> = None;
    let mut repeat = tokio::time::interval(BEAT);
    repeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut started = false;
    let mut batch = Vec::new();
    loop {
        if listener.is_none() {
            listener = listen(&pool).await;
        }
        // Once listening, so the answers are heard.
        if !started && listener.is_some() {
            started = true;
            tell(
                &services,
                &key,
                vec![Notice::Started {
                    replica: me.clone(),
                }],
            )
            .await;
        }
        let heard = async {
            match listener.as_mut() {
                Some(l) => l.try_recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            n = changed.recv_many(&mut batch, 256) => {
                if n == 0 {
                    break;
                }
                batch.sort_unstable();
                batch.dedup();
                let tickets = std::mem::take(&mut batch);
                tell(&services, &key, seats(&services, tickets)).await;
            }
            _ = repeat.tick() => {
                if let Some(elsewhere) = services.hub.elsewhere() {
                    for ticket in elsewhere.expire(Instant::now()) {
                        services.hub.show_here(&ticket);
                    }
                }
                tell(&services, &key, seats(&services, services.hub.seats().tickets())).await;
            }
            heard = heard => match heard {
                Ok(Some(notification)) => {
                    hear(&services, &me, &key, notification.payload()).await;
                }
                // The connection dropped; the next call reconnects, and the next
                // repeats make good what was said meanwhile.
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "who is here: lost the other replicas; listening again");
                    listener = None;
                }
            },
        }
    }
    tell(&services, &key, vec![Notice::Stopped { replica: me }]).await;
}

/// Who has each of `tickets` open on this replica, as notices.
fn seats(services: &Services, tickets: Vec<String>) -> Vec<Notice> {
    tickets
        .into_iter()
        .map(|ticket| Notice::Seats {
            replica: services.replica().to_owned(),
            people: services.hub.seats().people(&ticket),
            ticket,
        })
        .collect()
}

/// What another replica said.
async fn hear(services: &Services, me: &str, key: &[u8], payload: &str) {
    let Some(notice) = decode(payload, key, now_ms()).filter(|n| n.replica() != me) else {
        return;
    };
    let Some(elsewhere) = services.hub.elsewhere() else {
        return;
    };
    match notice {
        Notice::Seats {
            replica,
            ticket,
            people,
        } => {
            if elsewhere.set(&replica, &ticket, people, Instant::now() + ALIVE_FOR) {
                services.hub.show_here(&ticket);
            }
        }
        Notice::Started { .. } => {
            tell(
                services,
                key,
                seats(services, services.hub.seats().tickets()),
            )
            .await;
        }
        Notice::Stopped { replica } => {
            for ticket in elsewhere.gone(&replica) {
                services.hub.show_here(&ticket);
            }
        }
    }
}

/// Sends `notices`; a failure is logged, and the next repeat says it again.
async fn tell(services: &Services, key: &[u8], notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    let at = now_ms();
    let notices: Vec<String> = notices.into_iter().map(|n| encode(n, key, at)).collect();
    let sent = async {
        // Read-only will do: a notice changes nothing, and waits for no writer.
        let mut tx = services.store.read().await?;
        if let Some(shared) = tx.replicas() {
            shared.here_tell(&notices).await?;
        }
        tx.commit().await?;
        Ok::<(), crate::Error>(())
    };
    if let Err(e) = sent.await {
        tracing::warn!(error = ?e, "who is here: cannot tell the other replicas");
    }
}

async fn listen(pool: &sqlx::PgPool) -> Option<PgListener> {
    let listening: Result<PgListener> = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(HERE_CHANNEL).await?;
        Ok(listener)
    }
    .await;
    match listening {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(error = ?e, "who is here: cannot hear the other replicas; retrying");
            // Not at once: the loop comes back here on the next change or repeat.
            tokio::time::sleep(Duration::from_millis(200)).await;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the notices of these tests are sent (ms).
    const AT: i64 = 1_800_000_000_000;

    #[test]
    fn a_crowd_too_big_for_one_notice_is_cut_to_fit() {
        let people: Vec<Viewer> = (0..200)
            .map(|i| Viewer {
                agent: format!("agt_{i:04}"),
                name: format!("Agent with a rather long name, number {i}"),
                typing: false,
            })
            .collect();
        let key = b"key";
        let text = encode(
            Notice::Seats {
                replica: "r1".into(),
                ticket: "tkt_1".into(),
                people: people.clone(),
            },
            key,
            AT,
        );
        assert!(text.len() <= NOTICE_MAX_BYTES, "{}", text.len());
        let Some(Notice::Seats { people: told, .. }) = decode(&text, key, AT) else {
            panic!("not a seats notice: {text}");
        };
        assert!(told.len() > 50 && told.len() < 200, "{}", told.len());
        assert_eq!(told[..], people[..told.len()]);
        // A small one goes whole, and reads back the same.
        let small = Notice::Seats {
            replica: "r1".into(),
            ticket: "tkt_1".into(),
            people: people[..2].to_vec(),
        };
        assert_eq!(
            decode(&encode(small.clone(), key, AT), key, AT),
            Some(small)
        );
    }

    #[test]
    fn only_notices_signed_with_the_key_are_heard() {
        let key = b"the installation's key";
        let notice = Notice::Stopped {
            replica: "r1".into(),
        };
        let signed = encode(notice.clone(), key, AT);
        assert_eq!(decode(&signed, key, AT + 1_000), Some(notice.clone()));
        let (_, text) = signed.split_once(' ').unwrap();
        for forged in [
            text.to_owned(),
            format!("{} {text}", "0".repeat(64)),
            format!(
                "{} {text}",
                ids::keyed_digest(b"another key", text.as_bytes())
            ),
            signed.replacen("r1", "r2", 1),
            format!("{signed} "),
            String::new(),
        ] {
            assert_eq!(decode(&forged, key, AT), None, "{forged}");
        }
        // Heard again a minute later (replayed), or from far ahead: ignored.
        assert_eq!(decode(&signed, key, AT + 60_000), None);
        assert_eq!(decode(&signed, key, AT - 60_000), None);
        let unsigned_time = format!("{} x {text}", ids::keyed_digest(key, text.as_bytes()));
        assert_eq!(decode(&unsigned_time, key, AT), None);
        let malformed = format!("{AT} {{\"notice\":\"seats\"}}");
        let signed_malformed = format!(
            "{} {malformed}",
            ids::keyed_digest(key, malformed.as_bytes())
        );
        assert_eq!(decode(&signed_malformed, key, AT), None);
    }
}
