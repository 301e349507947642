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

use std::time::Duration;

use protocol::realtime::Viewer;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use store::events::{HERE_CHANNEL, NOTICE_MAX_BYTES};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::fleet::{ALIVE_FOR, BEAT};
use crate::{Result, Services};

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

/// The notice as sent. PostgreSQL caps a notice's size: a ticket with more people
/// than fit (dozens of long names on one replica) is told with those that do.
fn encode(notice: Notice) -> String {
    let mut notice = notice;
    loop {
        // A notice of strings and booleans always serialises.
        let text = serde_json::to_string(&notice).unwrap_or_default();
        match &mut notice {
            Notice::Seats { people, .. } if text.len() > NOTICE_MAX_BYTES && !people.is_empty() => {
                people.pop();
            }
            _ => return text,
        }
    }
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
                tell(&services, seats(&services, tickets)).await;
            }
            _ = repeat.tick() => {
                if let Some(elsewhere) = services.hub.elsewhere() {
                    for ticket in elsewhere.expire(Instant::now()) {
                        services.hub.show_here(&ticket);
                    }
                }
                tell(&services, seats(&services, services.hub.seats().tickets())).await;
            }
            heard = heard => match heard {
                Ok(Some(notification)) => {
                    hear(&services, &me, notification.payload()).await;
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
    tell(&services, vec![Notice::Stopped { replica: me }]).await;
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
async fn hear(services: &Services, me: &str, payload: &str) {
    let notice = match serde_json::from_str::<Notice>(payload) {
        Ok(notice) if notice.replica() != me => notice,
        Ok(_) => return,
        Err(e) => {
            tracing::debug!(error = %e, "who is here: a notice this version cannot read");
            return;
        }
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
            tell(services, seats(services, services.hub.seats().tickets())).await;
        }
        Notice::Stopped { replica } => {
            for ticket in elsewhere.gone(&replica) {
                services.hub.show_here(&ticket);
            }
        }
    }
}

/// Sends `notices`; a failure is logged, and the next repeat says it again.
async fn tell(services: &Services, notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    let notices: Vec<String> = notices.into_iter().map(encode).collect();
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

    #[test]
    fn a_crowd_too_big_for_one_notice_is_cut_to_fit() {
        let people: Vec<Viewer> = (0..200)
            .map(|i| Viewer {
                agent: format!("agt_{i:04}"),
                name: format!("Agent with a rather long name, number {i}"),
                typing: false,
            })
            .collect();
        let text = encode(Notice::Seats {
            replica: "r1".into(),
            ticket: "tkt_1".into(),
            people: people.clone(),
        });
        assert!(text.len() <= NOTICE_MAX_BYTES, "{}", text.len());
        let Ok(Notice::Seats { people: told, .. }) = serde_json::from_str(&text) else {
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
            serde_json::from_str::<Notice>(&encode(small.clone())).ok(),
            Some(small)
        );
    }
}
