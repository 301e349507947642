//! Labels: the list everyone picks from, the admin page that defines them, and
//! putting them on tickets (any account).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelView {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`, checked by the server (it goes into a style attribute).
    pub colour: String,
}

#[cfg(feature = "ssr")]
impl From<backend::labels::Label> for LabelView {
    fn from(l: backend::labels::Label) -> Self {
        LabelView {
            id: l.id,
            name: l.name,
            colour: l.colour,
        }
    }
}

#[server(endpoint = "labels")]
pub async fn labels() -> Result<Vec<LabelView>, AppError> {
    super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    Ok(backend::labels::list(&*services.store)
        .await?
        .into_iter()
        .map(LabelView::from)
        .collect())
}

#[server(endpoint = "admin/labels/create")]
pub async fn create_label(name: String, colour: String) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    backend::labels::create(&*services.store, &me.user, &actor, &name, &colour).await?;
    Ok(())
}

#[server(endpoint = "admin/labels/update")]
pub async fn update_label(id: i64, name: String, colour: String) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    backend::labels::update(&services, &me.user, &actor, id, Some(name), Some(colour)).await?;
    Ok(())
}

#[server(endpoint = "admin/labels/delete")]
pub async fn delete_label(id: i64) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    backend::labels::delete(&services, &me.user, &actor, id).await?;
    Ok(())
}

/// Puts a label on a ticket (`on`) or takes it off.
#[server(endpoint = "inbox/label")]
pub async fn label_ticket(id: String, label: i64, on: bool) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let ticket =
        backend::tickets::views::find_by_remote_id(&*services.store, me.user.id, &id).await?;
    if on {
        backend::labels::add(&services, &me.user, ticket, label).await?;
    } else {
        backend::labels::remove(&services, &me.user, ticket, label).await?;
    }
    Ok(())
}
