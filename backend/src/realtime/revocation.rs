//! Closing the sockets of people who lost their access, within a second.
//!
//! Changes made in this process close sockets directly (sign-out, deactivation from
//! the admin page). The CLI runs in another process and can deactivate people or
//! reset passwords too, so a sweep also compares every open socket with the database
//! twice a second: one query for all sockets, however many are open.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::auth::Credential;
use crate::{Result, Services};

const EVERY: Duration = Duration::from_millis(500);

pub async fn run(services: Services, cancel: CancellationToken) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
        if let Err(e) = sweep(&services).await {
            tracing::warn!(error = ?e, "socket revocation sweep failed");
        }
    }
}

/// Closes every socket whose account is deactivated, whose auth epoch moved on,
/// whose API token was revoked, or whose session expired. Returns how many it closed.
pub async fn sweep(services: &Services) -> Result<usize> {
    let sockets = services.hub.sockets();
    let open = sockets.callers();
    if open.is_empty() {
        return Ok(0);
    }
    let users: Vec<i64> = open
        .iter()
        .map(|(_, p)| p.user.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tokens: Vec<i64> = open
        .iter()
        .filter_map(|(_, p)| match p.credential {
            Credential::Token(t) => Some(t),
            Credential::Session(_) => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Sessions that ended without a sign-out (expired after a week unused, or
    // deleted) close their sockets too.
    let sessions: Vec<String> = open
        .iter()
        .filter_map(|(_, p)| match &p.credential {
            Credential::Session(s) => Some(s.clone()),
            Credential::Token(_) => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // One query for each, however many sockets are open.
    let mut tx = services.store.autocommit().await?;
    let live: HashMap<i64, i64> = tx.live_epochs(&users).await?.into_iter().collect();
    let revoked: BTreeSet<i64> = if tokens.is_empty() {
        BTreeSet::new()
    } else {
        tx.revoked_tokens(&tokens).await?.into_iter().collect()
    };
    let live_sessions: BTreeSet<String> = if sessions.is_empty() {
        BTreeSet::new()
    } else {
        tx.live_sessions(&sessions).await?.into_iter().collect()
    };
    let doomed: Vec<u64> = open
        .iter()
        .filter(|(_, p)| {
            live.get(&p.user.id) != Some(&p.epoch)
                || matches!(p.credential, Credential::Token(t) if revoked.contains(&t))
                || matches!(&p.credential, Credential::Session(s) if !live_sessions.contains(s))
        })
        .map(|(id, _)| *id)
        .collect();
    sockets.close(&doomed);
    Ok(doomed.len())
}
