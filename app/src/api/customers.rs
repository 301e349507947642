//! The customer page and the conversation's customer panel: details, tickets,
//! notes about the customer, and Botpress's attributes on demand. Every function
//! finds the customer as the signed-in person may see them (`customer_of`): one
//! they may not see is "not found", as one that does not exist.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use protocol::ticket::Status;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetails {
    pub id: String,
    pub connection: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTicketView {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerNoteView {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerData {
    pub customer: CustomerDetails,
    pub tickets: Vec<CustomerTicketView>,
    pub notes: Vec<CustomerNoteView>,
    pub botpress_linked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotpressAttributes {
    pub user_id: String,
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
async fn customer_of(
    id: &str,
) -> Result<(backend::auth::Caller, backend::Services, i64), AppError> {
    let user = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let customer = backend::customers::find(&*services.store, user.user.id, id).await?;
    Ok((user, services, customer))
}

#[server(endpoint = "customers/profile")]
pub async fn customer(id: String) -> Result<CustomerData, AppError> {
    let (user, services, id) = customer_of(&id).await?;
    let p = backend::customers::profile(&*services.store, user.user.id, id).await?;
    let c = p.customer;
    Ok(CustomerData {
        customer: CustomerDetails {
            id: c.id,
            connection: c.connection,
            name: c.name,
            email: c.email,
            phone: c.phone,
            company: c.company,
            created_at: c.created_at,
            edited_at: c.edited_at,
        },
        tickets: p
            .tickets
            .into_iter()
            .map(|t| CustomerTicketView {
                id: t.id,
                title: t.title,
                status: t.status,
                created_at: t.created_at,
                closed_at: t.closed_at,
                agent: t.agent,
            })
            .collect(),
        notes: p
            .notes
            .into_iter()
            .map(|n| CustomerNoteView {
                id: n.id,
                author: n.author,
                text: n.text,
                at: n.at,
            })
            .collect(),
        botpress_linked: p.botpress_linked,
    })
}

#[server(endpoint = "customers/update")]
pub async fn update_customer(
    id: String,
    name: String,
    phone: String,
    company: String,
) -> Result<(), AppError> {
    let (user, services, id) = customer_of(&id).await?;
    let actor = super::ssr::actor(&user.user).await;
    let edit = backend::customers::Edit {
        name: Some(name),
        phone: Some(phone),
        company: Some(company),
    };
    backend::customers::update(&services, &actor, id, &edit).await?;
    Ok(())
}

#[server(endpoint = "customers/note")]
pub async fn add_customer_note(id: String, text: String) -> Result<(), AppError> {
    let (user, services, id) = customer_of(&id).await?;
    backend::customers::add_note(&services, &user.user, id, &text).await?;
    Ok(())
}

#[server(endpoint = "customers/botpress")]
pub async fn ask_botpress(id: String) -> Result<BotpressAttributes, AppError> {
    let (_, services, id) = customer_of(&id).await?;
    let user = backend::customers::botpress_user(&services, id).await?;
    Ok(BotpressAttributes {
        user_id: user.user_id,
        name: user.name,
        tags: user.tags,
    })
}
