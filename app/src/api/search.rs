//! Search: the inbox's search box and the choices of its filters.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use protocol::search::{HitKind, MAX_QUERY_CHARS, SnippetPart};
pub use protocol::ticket::Status;

/// A search as the address carries it (`?q=…&status=…`): text, empty for "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilters {
    pub status: String,
    pub label: String,
    pub agent: String,
    pub connection: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: HitKind,
    pub ticket: String,
    pub ticket_title: String,
    pub status: Status,
    pub customer_name: Option<String>,
    pub message: Option<i64>,
    pub note: Option<i64>,
    pub author: Option<String>,
    pub at: i64,
    pub snippet: Vec<SnippetPart>,
}

/// What the filters offer besides labels (which have their own list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterChoices {
    /// (public id, name) of every active account.
    pub agents: Vec<(String, String)>,
    /// (id, name) of every Botpress connection.
    pub connections: Vec<(i64, String)>,
}

#[server(endpoint = "search")]
pub async fn search(
    q: String,
    #[server(default)] filters: SearchFilters,
) -> Result<Vec<SearchHit>, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let some = |s: String| Some(s).filter(|s| !s.is_empty());
    let filters = backend::search::RawFilters {
        status: some(filters.status),
        label: some(filters.label),
        agent: some(filters.agent),
        connection: some(filters.connection),
        from: some(filters.from),
        to: some(filters.to),
    }
    .resolve(&*services.store)
    .await?;
    let hits = backend::search::search(
        &*services.store,
        me.user.id,
        &q,
        &filters,
        backend::search::DEFAULT_LIMIT,
    )
    .await?;
    Ok(hits
        .into_iter()
        .map(|h| SearchHit {
            kind: h.kind,
            ticket: h.ticket,
            ticket_title: h.ticket_title,
            status: h.status,
            customer_name: h.customer_name,
            message: h.message,
            note: h.note,
            author: h.author,
            at: h.at,
            snippet: h.snippet,
        })
        .collect())
}

#[server(endpoint = "search/options")]
pub async fn search_options() -> Result<FilterChoices, AppError> {
    super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let agents = backend::accounts::people::list(&services)
        .await?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| (p.public_id, p.name))
        .collect();
    let connections = backend::connections::list(&*services.store)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(FilterChoices {
        agents,
        connections,
    })
}
