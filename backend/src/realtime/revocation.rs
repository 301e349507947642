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
    let users: BTreeSet<i64> = open.iter().map(|(_, p)| p.user.id).collect();
    let users = serde_json::to_string(&users).unwrap_or_default();
    let live: HashMap<i64, i64> = sqlx::query!(
        r#"select id as "id!", auth_epoch from users
           where active = 1 and id in (select value from json_each(?))"#,
        users
    )
    .fetch_all(&services.db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.auth_epoch))
    .collect();
    let tokens: BTreeSet<i64> = open
        .iter()
        .filter_map(|(_, p)| match p.credential {
            Credential::Token(t) => Some(t),
            Credential::Session(_) => None,
        })
        .collect();
    let revoked: BTreeSet<i64> = if tokens.is_empty() {
        BTreeSet::new()
    } else {
        let tokens = serde_json::to_string(&tokens).unwrap_or_default();
        sqlx::query_scalar!(
            r#"select id as "id!" from api_tokens
               where revoked_at is not null and id in (select value from json_each(?))"#,
            tokens
        )
        .fetch_all(&services.db)
        .await?
        .into_iter()
        .collect()
    };
    // Sessions that ended without a sign-out (expired after a week unused, or
    // deleted) close their sockets too.
    let sessions: BTreeSet<&str> = open
        .iter()
        .filter_map(|(_, p)| match &p.credential {
            Credential::Session(s) => Some(s.as_str()),
            Credential::Token(_) => None,
        })
        .collect();
    let live_sessions: BTreeSet<String> = if sessions.is_empty() {
        BTreeSet::new()
    } else {
        let sessions = serde_json::to_string(&sessions).unwrap_or_default();
        sqlx::query_scalar!(
            r#"select id as "id!" from tower_sessions
               where id in (select value from json_each(?))
                 and julianday(expiry_date) > julianday('now')"#,
            sessions
        )
        .fetch_all(&services.db)
        .await?
        .into_iter()
        .collect()
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
