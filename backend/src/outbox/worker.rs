//! Delivers outbox rows to the bots' webhooks.
//!
//! One loop claims the head row of every ticket that is due, sends each on its own
//! task (one slow bot does not hold up the others), and sleeps until it is woken, a
//! send finishes, or the next retry or hold expires. No polling: an enqueue wakes it.
//!
//! Rules (docs/botpress.md §6, §11):
//! - per ticket, one call at a time, in enqueue order;
//! - a ticket's calls wait until Botpress surely has the session: its first
//!   botSendsMessage, or 2 s after creation (calling earlier can split the ticket);
//! - retried with capped exponential backoff when the request surely did not land or
//!   was refused for load: connection failures, 429, 502, 503, 504 (first retry after
//!   1 s, cap 60 s, given up after 24 h);
//! - not retried when it may have landed (a timeout after sending) or was refused for
//!   good (other 4xx/5xx): failed with the reason, for a person to resend. `/stop-hitl`
//!   is the exception: Botpress ignores repeats, so it is retried on timeouts too.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use protocol::integration::Integration;
use protocol::realtime::Change;

use super::{Route, baton, signing};
use crate::clock::now_ms;
use crate::effects::{Effects, Holders};
use crate::{Result, Services, connections};

pub const HOLD_MS: i64 = 2_000;
const FIRST_RETRY_MS: i64 = 1_000;
const MAX_RETRY_MS: i64 = 60_000;
const GIVE_UP_MS: i64 = 24 * 60 * 60 * 1000;
/// Calls in flight at once, across all tickets.
const MAX_IN_FLIGHT: i64 = 32;
/// A claim's lease beyond the webhook timeout (see [`lease_ms`]).
const LEASE_MARGIN_MS: i64 = 10_000;
/// Among replicas, how often a worker looks for calls another replica queued or
/// left behind.
const LOOK_FOR_DEAD: Duration = Duration::from_secs(2);

use store::outbox::Claimed;

/// What became of one attempt, by whether the bot may have acted on it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Sent,
    /// Surely not processed (never connected, or refused for load): safe to send
    /// again, after at least `retry_after` when the bot asked for that.
    NotLanded {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The request went out and no answer came back: the bot may have acted on it.
    MayHaveLanded(String),
    /// Refused for good, or never sendable (a webhook URL that is not allowed).
    Refused(String),
}

impl Outcome {
    /// Its name in `baton_webhook_calls_total{outcome=…}`.
    fn name(&self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::NotLanded { .. } => "not_landed",
            Outcome::MayHaveLanded(_) => "may_have_landed",
            Outcome::Refused(_) => "refused",
        }
    }
}

/// What to do with the row after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Sent,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Failed(String),
}

impl Decision {
    /// Retries only what cannot reach the customer twice: a call that surely did not
    /// land, or a repeatable one (`/stop-hitl`) that may have.
    fn of(outcome: Outcome, route: Route) -> Self {
        match outcome {
            Outcome::Sent => Decision::Sent,
            Outcome::NotLanded {
                reason,
                retry_after,
            } => Decision::Retry {
                reason,
                after: retry_after,
            },
            Outcome::MayHaveLanded(reason) if route.repeatable() => Decision::Retry {
                reason,
                after: None,
            },
            Outcome::MayHaveLanded(reason) | Outcome::Refused(reason) => Decision::Failed(reason),
        }
    }
}

/// Runs until `cancel` fires, then lets in-flight calls finish.
pub async fn run(services: Services, client: reqwest::Client, cancel: CancellationToken) {
    // The only process (SQLite) recovers every interrupted call at start; among
    // replicas, another may be sending, so only calls whose lease ran out are.
    let shared = services.db.is_postgres();
    if let Err(e) = recover_interrupted(&services, !shared).await {
        tracing::error!(error = ?e, "outbox: cannot recover interrupted deliveries");
    }
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut recovered_at = tokio::time::Instant::now();
    loop {
        // A replica that died mid-send leaves its calls `sending`; the others take
        // them back once their lease runs out.
        if shared && recovered_at.elapsed() >= LOOK_FOR_DEAD {
            recovered_at = tokio::time::Instant::now();
            if let Err(e) = recover_interrupted(&services, false).await {
                tracing::error!(error = ?e, "outbox: cannot recover expired deliveries");
            }
        }
        let free = MAX_IN_FLIGHT - i64::try_from(in_flight.len()).unwrap_or(MAX_IN_FLIGHT);
        // Register for wake-ups before looking, so an enqueue that commits while we
        // query is not missed.
        let woken = services.wakers.outbox.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match claim(&services, free).await {
            Ok(rows) => {
                for row in rows {
                    let services = services.clone();
                    let client = client.clone();
                    in_flight.spawn(async move { deliver(&services, &client, row).await });
                }
            }
            Err(e) => tracing::error!(error = ?e, "outbox: cannot claim deliveries"),
        }
        let wait = match next_due(&services).await {
            Ok(Some(at)) => {
                Duration::from_millis(u64::try_from((at - now_ms()).max(0)).unwrap_or(0))
            }
            Ok(None) => Duration::from_secs(3600),
            Err(e) => {
                tracing::error!(error = ?e, "outbox: cannot read the next due time");
                Duration::from_secs(1)
            }
        };
        let mut wait = wait.max(Duration::from_millis(10));
        if shared {
            wait = wait.min(LOOK_FOR_DEAD);
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = &mut woken => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
}

/// A crash or stop during a send leaves rows in `sending`: we cannot know whether the
/// bot got them. Messages and assignments become failed (the bot shows both to the
/// customer, so a repeat would be visible); `/stop-hitl` is idempotent and retried.
async fn recover_interrupted(services: &Services, all: bool) -> Result<()> {
    let reason = "Baton stopped while delivering this; it may or may not have arrived";
    let mut tx = services.store.write().await?;
    let recovered = tx.outbox_recover_interrupted(reason, now_ms(), all).await?;
    tx.commit().await?;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "outbox: took back calls a stopped process was sending"
        );
    }
    Ok(())
}

/// How long a claimed call is leased to the process sending it: well past the
/// webhook timeout, so a live sender always records its result first.
fn lease_ms(services: &Services) -> i64 {
    let timeout = i64::try_from(services.settings.webhook_timeout.as_millis()).unwrap_or(0);
    timeout.saturating_add(LEASE_MARGIN_MS)
}

/// Marks up to `limit` due head-of-ticket rows as `sending` and returns them.
async fn claim(services: &Services, limit: i64) -> Result<Vec<Claimed>> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let mut tx = services.store.write().await?;
    let now = now_ms();
    let rows = tx
        .outbox_claim(now, HOLD_MS, limit, now.saturating_add(lease_ms(services)))
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// When the earliest waiting head row becomes due (retry time or end of its hold).
async fn next_due(services: &Services) -> Result<Option<i64>> {
    Ok(services
        .store
        .autocommit()
        .await?
        .outbox_next_due(HOLD_MS)
        .await?)
}

async fn deliver(services: &Services, client: &reqwest::Client, row: Claimed) {
    let started = std::time::Instant::now();
    let outcome = match prepare(services, &row).await {
        Ok(Ok(request)) => {
            match crate::webhook_guard::check_url(
                &request.url,
                services.settings.allow_private_webhooks,
            ) {
                // Never sent, so never landed: failed, with the reason for the admin.
                Err(e) => Outcome::Refused(e.to_string()),
                Ok(()) => post(client, request, services.settings.webhook_timeout).await,
            }
        }
        // Baton's integration is not installed: nothing to send it to.
        Ok(Err(why)) => Outcome::Refused(why.to_owned()),
        Err(e) => Outcome::NotLanded {
            reason: format!("cannot read the connection: {e}"),
            retry_after: None,
        },
    };
    services
        .metrics
        .webhook_call(row.route.path(), outcome.name(), started.elapsed());
    let decision = Decision::of(outcome, row.route);
    // A result that cannot be written leaves the row `sending`, which holds up the
    // ticket's later calls; the database is rarely busy for long, so try again.
    for attempt in 0..6_u32 {
        match record(services, &row, &decision).await {
            Ok(effects) => {
                services.apply(effects);
                return;
            }
            Err(e) => {
                tracing::error!(error = ?e, outbox = row.id, attempt, "outbox: cannot record a delivery result");
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
        }
    }
}

/// One call, ready to send.
pub(crate) struct Request {
    url: String,
    body: String,
    /// The signature headers, for Baton's own integration.
    headers: Vec<(&'static str, String)>,
}

/// The URL, body and headers of a claimed call, as its connection's integration
/// takes them; `Ok(Err(why))` when Baton's integration cannot be called now.
async fn prepare(services: &Services, row: &Claimed) -> Result<Result<Request, &'static str>> {
    let secrets = connections::secrets(&*services.store, row.connection_id).await?;
    if let Some(why) = connections::not_callable(&secrets) {
        return Ok(Err(why));
    }
    let url = format!("{}/{}", secrets.webhook_url, row.route.path());
    let key = match (secrets.integration, &secrets.signing_key) {
        (Integration::HitlApi, _) => {
            return Ok(Ok(Request {
                url,
                body: row.body.clone(),
                headers: Vec::new(),
            }));
        }
        (Integration::Baton, Some(key)) => key.clone(),
        (Integration::Baton, None) => return Ok(Err(connections::NOT_REGISTERED)),
    };
    let (conversation, agent) = {
        let mut tx = services.store.autocommit().await?;
        let conversation = tx
            .ticket_get(row.ticket_id)
            .await?
            .and_then(|t| t.botpress_conversation_id);
        let agent = match baton::agent_id(&row.body)? {
            Some(id) if id == super::BATON_AGENT => Some(baton::baton_itself()),
            Some(id) => {
                let name = match tx.user_id_by_public_id(&id).await? {
                    Some(user) => tx.user_get(user).await?.map(|u| u.name),
                    None => None,
                };
                Some(baton::Agent {
                    name: name.unwrap_or_else(|| "Agent".to_owned()),
                    id,
                    avatar_url: None,
                })
            }
            None => None,
        };
        (conversation, agent)
    };
    let about = baton::About {
        ticket: &row.remote_id,
        conversation: conversation.as_deref(),
        agent,
        message: row.message_id,
    };
    let body = baton::body(&row.body, about)?;
    // Signed when sent, not when queued: a retry an hour later must still be fresh.
    let timestamp = now_ms() / 1000;
    let signature = signing::sign(&key, timestamp, &body);
    Ok(Ok(Request {
        url,
        body,
        headers: vec![
            (signing::TIMESTAMP_HEADER, timestamp.to_string()),
            (signing::SIGNATURE_HEADER, signature),
        ],
    }))
}

pub(crate) async fn post(client: &reqwest::Client, request: Request, timeout: Duration) -> Outcome {
    let mut builder = client
        .post(&request.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    let sent = builder.body(request.body).timeout(timeout).send().await;
    match sent {
        Ok(response) => classify_status(response.status(), retry_after(&response)),
        // `without_url`: the webhook URL is a secret, and these reasons are shown to
        // agents and admins.
        Err(e) if e.is_connect() => Outcome::NotLanded {
            reason: format!("cannot connect to the bot's webhook: {}", e.without_url()),
            retry_after: None,
        },
        Err(e) if e.is_timeout() => Outcome::MayHaveLanded(format!(
            "the bot's webhook did not answer in time ({} s); it may have been delivered",
            timeout.as_secs()
        )),
        Err(e) => Outcome::MayHaveLanded(format!(
            "the connection to the bot's webhook broke; it may have been delivered: {}",
            e.without_url()
        )),
    }
}

fn classify_status(status: reqwest::StatusCode, retry_after: Option<Duration>) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Sent,
        429 | 502 | 503 | 504 => Outcome::NotLanded {
            reason: format!("the bot's webhook answered {status}"),
            retry_after,
        },
        _ => Outcome::Refused(format!("the bot's webhook refused it with {status}")),
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, … capped at 60 s.
pub(crate) fn backoff_ms(attempts: i64, retry_after: Option<Duration>) -> i64 {
    let exponent = u32::try_from((attempts - 1).clamp(0, 16)).unwrap_or(16);
    let base = FIRST_RETRY_MS
        .saturating_mul(1_i64 << exponent)
        .min(MAX_RETRY_MS);
    let asked = retry_after
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(MAX_RETRY_MS))
        .unwrap_or(0);
    base.max(asked).min(MAX_RETRY_MS)
}

/// Writes the result; what it caused (the message's new delivery state) is applied
/// by the caller.
async fn record(services: &Services, row: &Claimed, decision: &Decision) -> Result<Effects> {
    let now = now_ms();
    let decision = match decision {
        Decision::Retry { reason, .. } if now - row.created_at >= GIVE_UP_MS => {
            Decision::Failed(format!("gave up after 24 h of retries: {reason}"))
        }
        Decision::Retry { reason, after } => Decision::Retry {
            reason: reason.clone(),
            after: *after,
        },
        Decision::Failed(reason) => Decision::Failed(reason.clone()),
        Decision::Sent => Decision::Sent,
    };
    let mut tx = services.store.write().await?;
    // The customer or the bot may have ended the session while this call was in
    // flight; retrying into an ended session would only be dropped by Botpress.
    let ended = tx.ticket_ended_by_botpress(row.ticket_id).await?;
    let decision = match decision {
        Decision::Retry { .. } if ended => {
            Decision::Failed("the conversation ended before this was delivered".into())
        }
        other => other,
    };
    match &decision {
        Decision::Sent => tx.outbox_sent(row.id, row.message_id, now).await?,
        Decision::Retry { reason, after } => {
            let next = now + backoff_ms(row.attempts, *after);
            tracing::warn!(
                outbox = row.id,
                attempts = row.attempts,
                reason,
                "webhook call will be retried"
            );
            tx.outbox_retry(row.id, reason, next).await?;
        }
        Decision::Failed(reason) => {
            tracing::warn!(outbox = row.id, reason, "webhook call failed");
            tx.outbox_failed(row.id, row.message_id, reason, now)
                .await?;
        }
    }
    let mut effects = Effects::new();
    // A retry leaves the message `pending`: nothing to show yet.
    if let (Some(message), false) = (row.message_id, matches!(decision, Decision::Retry { .. })) {
        let change = Change::DeliveryChanged {
            ticket: row.remote_id.clone(),
            message,
        };
        effects
            .publish_ticket(
                &mut *tx,
                row.connection_id,
                Holders::Of(row.ticket_id),
                change,
            )
            .await?;
    }
    tx.commit().await?;
    let error = match &decision {
        Decision::Sent => None,
        Decision::Retry { reason, .. } | Decision::Failed(reason) => Some(reason.as_str()),
    };
    connections::record_outbound(&*services.store, row.connection_id, error).await?;
    Ok(effects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_within_two_seconds_and_caps_at_a_minute() {
        assert_eq!(backoff_ms(1, None), 1_000);
        assert_eq!(backoff_ms(2, None), 2_000);
        assert_eq!(backoff_ms(7, None), 60_000);
        assert_eq!(backoff_ms(40, None), 60_000);
        assert_eq!(backoff_ms(1, Some(Duration::from_secs(5))), 5_000);
        assert_eq!(backoff_ms(1, Some(Duration::from_secs(600))), 60_000);
    }

    #[test]
    fn only_load_refusals_are_retried() {
        use reqwest::StatusCode as S;
        assert_eq!(classify_status(S::OK, None), Outcome::Sent);
        for s in [
            S::TOO_MANY_REQUESTS,
            S::BAD_GATEWAY,
            S::SERVICE_UNAVAILABLE,
            S::GATEWAY_TIMEOUT,
        ] {
            assert!(
                matches!(classify_status(s, None), Outcome::NotLanded { .. }),
                "{s}"
            );
        }
        for s in [S::BAD_REQUEST, S::NOT_FOUND, S::INTERNAL_SERVER_ERROR] {
            assert!(
                matches!(classify_status(s, None), Outcome::Refused(..)),
                "{s}"
            );
        }
    }

    #[test]
    fn what_may_have_landed_is_retried_only_when_repeatable() {
        let timeout = || Outcome::MayHaveLanded("no answer".into());
        assert_eq!(
            Decision::of(timeout(), Route::MessageFromAgent),
            Decision::Failed("no answer".into())
        );
        assert_eq!(
            Decision::of(timeout(), Route::AgentAssigned),
            Decision::Failed("no answer".into())
        );
        assert!(matches!(
            Decision::of(timeout(), Route::StopHitl),
            Decision::Retry { .. }
        ));
        let refused = Outcome::Refused("400".into());
        assert!(matches!(
            Decision::of(refused, Route::StopHitl),
            Decision::Failed(_)
        ));
        let down = Outcome::NotLanded {
            reason: "refused".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            Decision::of(down, Route::MessageFromAgent),
            Decision::Retry {
                reason: "refused".into(),
                after: Some(Duration::from_secs(3))
            }
        );
    }
}
