//! The audit log: who did what, when, from where. Entries are written in the
//! transaction of the change they record (`record`), so one exists exactly when
//! the change does. Accounts, tickets, connections and the CLI all write here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;
use crate::clock::now_ms;

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    /// An email, or `cli` / `system`.
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        Actor {
            id: None,
            label: "cli".into(),
            ip: None,
        }
    }
}

/// Writes one audit entry on its own (a sign-in, an export): the change it records
/// is not a write of ours, or has been committed already.
pub async fn audit(
    store: &dyn store::Store,
    actor: &Actor,
    action: &str,
    detail: Value,
) -> Result<()> {
    let mut tx = store.write().await?;
    record(&mut *tx, actor, action, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// One audit entry inside a transaction, so the entry exists exactly when the change
/// does. Code still on SQLite's own queries passes `&mut store_sqlite::on(conn)`.
pub async fn record(
    tx: &mut dyn store::Tx,
    actor: &Actor,
    action: &str,
    detail: Value,
) -> Result<()> {
    let detail = detail.to_string();
    let entry = store::audit::NewEntry {
        at: now_ms(),
        actor_id: actor.id,
        actor: &actor.label,
        ip: actor.ip.as_deref(),
        action,
        detail: &detail,
    };
    tx.audit_insert(&entry).await?;
    Ok(())
}

pub use store::audit::Entry;

/// What to show. Empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Part of the actor's email (or `cli`).
    #[serde(default)]
    pub actor: String,
    /// The start of an action name: `login` matches `login`, `login.failed`, ….
    #[serde(default)]
    pub action: String,
    /// Only entries older than this id (the next page).
    #[serde(default)]
    pub before: Option<i64>,
}

/// Entries per page.
pub const PAGE: i64 = 100;

/// Newest first, one page.
pub async fn list(store: &dyn store::Store, filter: &Filter) -> Result<Vec<Entry>> {
    let actor = format!("%{}%", escape_like(filter.actor.trim()));
    let action = format!("{}%", escape_like(filter.action.trim()));
    let before = filter.before.unwrap_or(i64::MAX);
    let mut tx = store.autocommit().await?;
    Ok(tx.audit_page(before, &actor, &action, PAGE).await?)
}

fn escape_like(raw: &str) -> String {
    raw.replace('\\', r"\\")
        .replace('%', r"\%")
        .replace('_', r"\_")
}
