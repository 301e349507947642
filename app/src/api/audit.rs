//! Admin: the audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub ip: Option<String>,
    pub action: String,
    pub detail: String,
}

/// One page of the log, newest first. `actor` matches part of an email; `action`
/// matches the start of an action name; `before` pages back by entry id.
#[server(endpoint = "admin/audit")]
pub async fn list_audit(
    #[server(default)] actor: String,
    #[server(default)] action: String,
    #[server(default)] before: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    use backend::audit;
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let filter = audit::Filter {
        actor,
        action,
        before,
    };
    Ok(audit::list(&*services.store, &filter)
        .await?
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            at: e.at,
            actor: e.actor,
            ip: e.ip,
            action: e.action,
            detail: e.detail,
        })
        .collect())
}
