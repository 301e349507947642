//! Canned replies: the composer's `/` picker, the profile (one's own) and the admin
//! page (the team's). Who may change which is the backend's rule.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    pub id: i64,
    pub shortcut: String,
    pub body: String,
    /// The team's (admins change it); else the viewer's own.
    pub shared: bool,
}

/// The replies offered to the signed-in person: their own, then the team's.
#[server(endpoint = "canned")]
pub async fn canned_replies() -> Result<Vec<CannedReply>, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    Ok(backend::canned::list(&*services.store, &me.user)
        .await?
        .into_iter()
        .map(|r| CannedReply {
            id: r.id,
            shortcut: r.shortcut,
            body: r.body,
            shared: r.shared,
        })
        .collect())
}

/// Saves a new reply: one's own, or (`shared`, admins only) the team's.
#[server(endpoint = "canned/create")]
pub async fn create_canned_reply(
    shortcut: String,
    body: String,
    shared: bool,
) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let actor = super::ssr::actor(&me.user).await;
    let draft = backend::canned::Draft { shortcut, body };
    backend::canned::create(&*services.store, &me.user, &actor, &draft, shared).await?;
    Ok(())
}

#[server(endpoint = "canned/update")]
pub async fn update_canned_reply(id: i64, shortcut: String, body: String) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let actor = super::ssr::actor(&me.user).await;
    backend::canned::update(
        &*services.store,
        &me.user,
        &actor,
        id,
        Some(shortcut),
        Some(body),
    )
    .await?;
    Ok(())
}

#[server(endpoint = "canned/delete")]
pub async fn delete_canned_reply(id: i64) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let actor = super::ssr::actor(&me.user).await;
    backend::canned::delete(&*services.store, &me.user, &actor, id).await?;
    Ok(())
}
