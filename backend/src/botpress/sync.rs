//! Background work against the Botpress API, for connections that have a bot id and an
//! access token:
//!
//! - map each `closeRemoteTicket` to its ticket by reading the conversation's tags,
//!   falling back to the end-notice heuristic when the API cannot tell (docs/botpress.md §9);
//! - a few seconds after a ticket is created, find its Botpress conversation (so
//!   closes map instantly later) and import the customer's conversation with the bot
//!   as the ticket's transcript: hitl-api strips `messageHistory`, so this is the only
//!   way an agent sees what happened before the handoff.
//!
//! State lives in the database (`close_requests`, `tickets.sync_*`), so a restart
//! resumes where it stopped. Woken on demand; sleeps until the next due item.

use std::time::Duration;

use protocol::realtime::Change;
use protocol::ticket::Origin;
use tokio_util::sync::CancellationToken;

use super::api::{ApiError, Credentials, parse_timestamp};
use super::mapping;
use crate::clock::now_ms;
use crate::effects::{Effects, Holders};
use crate::{Result, Services, connections};

/// How often an idle worker looks for work another process (the CLI) queued.
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// Attempts before a lookup that keeps failing transiently is given up.
const MAX_ATTEMPTS: i64 = 8;

fn retry_delay_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 10)).unwrap_or(10);
    (3_000_i64 << exponent).min(300_000)
}

pub async fn run(services: Services, cancel: CancellationToken) {
    loop {
        let woken = services.wakers.sync.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        // One process at a time asks Botpress, or two would import a transcript twice.
        match crate::jobs::holds(&services, crate::jobs::Job::BotpressSync, IDLE_LOOK).await {
            Ok(true) => {
                if let Err(e) = run_due(&services).await {
                    tracing::error!(error = ?e, "botpress sync: pass failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = ?e, "botpress sync: cannot take the lease"),
        }
        let wait = match next_due(&services).await {
            Ok(Some(at)) => {
                Duration::from_millis(u64::try_from((at - now_ms()).max(0)).unwrap_or(0))
            }
            Ok(None) => IDLE_LOOK,
            Err(e) => {
                tracing::error!(error = ?e, "botpress sync: cannot read the next due time");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            () = &mut woken => {}
            () = tokio::time::sleep(wait.clamp(Duration::from_millis(10), IDLE_LOOK)) => {}
        }
    }
    crate::jobs::release(&services, crate::jobs::Job::BotpressSync).await;
}

async fn next_due(services: &Services) -> Result<Option<i64>> {
    Ok(services.store.autocommit().await?.sync_next_due().await?)
}

async fn run_due(services: &Services) -> Result<()> {
    let now = now_ms();
    let closes = services
        .store
        .autocommit()
        .await?
        .close_requests_due(now, 50)
        .await?;
    for c in closes {
        let request = CloseRequest {
            id: c.id,
            connection: c.connection_id,
            conversation: c.botpress_conversation_id,
            attempts: c.attempts,
            received_at: c.received_at,
        };
        // One row's failure must not stop the others, nor make the loop spin on it.
        if let Err(e) = map_close(services, &request).await {
            tracing::error!(error = ?e, request = request.id, "botpress sync: close mapping failed");
            let later = now_ms() + 60_000;
            let mut tx = services.store.autocommit().await?;
            tx.close_request_due(request.id, later).await?;
        }
    }
    let tickets = services
        .store
        .autocommit()
        .await?
        .tickets_sync_due(now, 50)
        .await?;
    for t in tickets {
        let synced = sync_ticket(
            services,
            t.id,
            t.connection_id,
            &t.remote_id,
            t.botpress_conversation_id.as_deref(),
            t.sync_attempts,
        )
        .await;
        if let Err(e) = synced {
            tracing::error!(error = ?e, ticket = t.id, "botpress sync: ticket sync failed");
            sync_retry(
                services,
                t.id,
                t.sync_attempts,
                "internal error; see the server log",
            )
            .await?;
        }
    }
    Ok(())
}

struct CloseRequest {
    id: i64,
    connection: i64,
    conversation: String,
    attempts: i64,
    received_at: i64,
}

async fn map_close(services: &Services, close: &CloseRequest) -> Result<()> {
    let (request, connection, conversation, attempts) = (
        close.id,
        close.connection,
        close.conversation.as_str(),
        close.attempts,
    );
    let secrets = connections::secrets(&*services.store, connection).await?;
    let found = match secrets.api_credentials() {
        Some((bot_id, token)) => {
            let creds = Credentials { bot_id, token };
            services.api.conversation(creds, conversation).await
        }
        None => Err(ApiError::Refused(
            "the connection has no Botpress API credentials".into(),
        )),
    };
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let error = match found {
        Ok(Some(conv)) => {
            let ticket = match conv.external_id() {
                Some(remote_id) => tx.ticket_id_by_remote(connection, remote_id).await?,
                None => None,
            };
            if let Some(ticket) = ticket {
                if let Some(upstream) = conv.upstream() {
                    tx.ticket_set_upstream(ticket, upstream).await?;
                }
                let by = store::inbound::MappedBy::Api;
                mapping::resolve(&mut *tx, &mut effects, request, ticket, by, now).await?;
                return services.commit_session(tx, effects).await;
            }
            "the Botpress conversation carries no ticket id Baton knows".to_owned()
        }
        Ok(None) => "Botpress does not know this conversation".to_owned(),
        Err(ApiError::Transient(e)) if attempts + 1 < MAX_ATTEMPTS => {
            let next = now + retry_delay_ms(attempts);
            tx.close_request_retry(request, next, &e).await?;
            tx.commit().await?;
            return Ok(());
        }
        Err(e) => e.to_string(),
    };
    // The API could not say; the end notice may still tell.
    let mapped = mapping::by_end_notice(
        &mut *tx,
        &mut effects,
        request,
        connection,
        close.received_at,
        now,
    )
    .await?;
    if mapped.is_none() {
        tx.close_request_failed_lookup(request, &error).await?;
    }
    services.commit_session(tx, effects).await
}

async fn sync_ticket(
    services: &Services,
    ticket: i64,
    connection: i64,
    remote_id: &str,
    known_conversation: Option<&str>,
    attempts: i64,
) -> Result<()> {
    let secrets = connections::secrets(&*services.store, connection).await?;
    let Some((bot_id, token)) = secrets.api_credentials() else {
        services
            .store
            .autocommit()
            .await?
            .ticket_sync_none(ticket)
            .await?;
        return Ok(());
    };
    let creds = Credentials { bot_id, token };
    let conversation = match known_conversation {
        Some(id) => services.api.conversation(creds, id).await,
        None => services.api.conversation_for_ticket(creds, remote_id).await,
    };
    let conversation = match conversation {
        Ok(Some(c)) => c,
        // Not there yet (Botpress creates it after our answer) or a passing fault.
        Ok(None) => {
            return sync_retry(
                services,
                ticket,
                attempts,
                "Botpress has no conversation for this ticket yet",
            )
            .await;
        }
        Err(ApiError::Transient(e)) => return sync_retry(services, ticket, attempts, &e).await,
        Err(ApiError::Refused(e)) => return sync_fail(services, ticket, &e).await,
    };
    let upstream = conversation.upstream().map(str::to_owned);
    let transcript = match &upstream {
        Some(up) => match services.api.messages(creds, up).await {
            Ok(messages) => messages,
            Err(ApiError::Transient(e)) => return sync_retry(services, ticket, attempts, &e).await,
            Err(ApiError::Refused(e)) => return sync_fail(services, ticket, &e).await,
        },
        None => Vec::new(),
    };

    let now = now_ms();
    let mut tx = services.store.write().await?;
    let taken = tx
        .ticket_holding_conversation(connection, &conversation.id, ticket)
        .await?;
    if taken.is_none() {
        tx.ticket_set_conversations(ticket, &conversation.id, upstream.as_deref())
            .await?;
    }
    let (customer, created_at) = tx.ticket_customer_and_created(ticket).await?;
    // Only what came before the handoff: the customer's conversation also holds the
    // messages relayed during it (already in the ticket) and, later, after it.
    let before_handoff = transcript.iter().filter(|m| {
        m.created_at
            .as_deref()
            .and_then(parse_timestamp)
            .is_some_and(|at| at <= created_at)
    });
    for m in before_handoff {
        let incoming = m.direction.as_deref() == Some("incoming");
        let origin = if incoming {
            Origin::TranscriptCustomer
        } else {
            Origin::TranscriptBot
        };
        let kind = m.kind.clone().unwrap_or_else(|| "unknown".into());
        let payload = if m.payload.is_object() {
            m.payload.to_string()
        } else {
            "{}".to_owned()
        };
        let line = store::sync::TranscriptLine {
            ticket,
            origin,
            kind: &kind,
            payload: &payload,
            customer: if incoming { customer } else { None },
            external_id: &m.id,
            sent_at: m.created_at.as_deref().and_then(parse_timestamp),
            at: now,
        };
        tx.transcript_insert(&line).await?;
    }
    tx.ticket_sync_done(ticket).await?;
    // The imported transcript is new to everyone who has the ticket open.
    let mut effects = Effects::new();
    effects
        .publish_ticket(
            &mut *tx,
            connection,
            Holders::Of(ticket),
            Change::TranscriptImported {
                ticket: remote_id.to_owned(),
            },
        )
        .await?;
    services.commit_session(tx, effects).await
}

async fn sync_retry(services: &Services, ticket: i64, attempts: i64, error: &str) -> Result<()> {
    if attempts + 1 >= MAX_ATTEMPTS {
        return sync_fail(services, ticket, error).await;
    }
    let next = now_ms() + retry_delay_ms(attempts);
    let mut tx = services.store.autocommit().await?;
    tx.ticket_sync_retry(ticket, next, error).await?;
    Ok(())
}

async fn sync_fail(services: &Services, ticket: i64, error: &str) -> Result<()> {
    tracing::warn!(ticket, error, "botpress sync gave up");
    let mut tx = services.store.autocommit().await?;
    tx.ticket_sync_failed(ticket, error).await?;
    Ok(())
}

/// After a connection gains API credentials: retry its unmapped closes and sync its
/// open tickets that never were.
pub async fn credentials_added(services: &Services, connection: i64) -> Result<()> {
    credentials_added_in(&*services.store, connection).await?;
    let mut effects = Effects::new();
    effects.wake(crate::effects::Worker::Sync);
    services.apply(effects);
    Ok(())
}

/// [`credentials_added`] for another process (the CLI): the server's worker picks the
/// work up on its next periodic look.
pub async fn credentials_added_in(store: &dyn store::Store, connection: i64) -> Result<()> {
    let mut tx = store.write().await?;
    tx.sync_credentials_added(connection, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
