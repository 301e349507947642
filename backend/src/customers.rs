//! The customer: who they are (as Botpress said, and as agents corrected), every
//! ticket of theirs, notes about them that every ticket shows, and, where the
//! connection has API credentials, what Botpress knows (their user's tags).
//!
//! A customer is for whoever may see one of their tickets (`routing`: those who
//! serve the customer's bot, admins, and whoever holds one of the tickets), and for
//! those who serve the bot when the customer has no ticket yet. To anyone else the
//! customer does not exist: [`find`] is the way in, and it takes the viewer. The
//! customer's ticket list holds only the tickets the viewer may see.
//!
//! Customers are named by their public id (`cus_…`, what Botpress knows them by).
//! Details an agent edits are kept: a later `/createRemoteUser` does not replace
//! the name (see `botpress::inbound`). The email stays as Botpress sent it, since
//! Botpress finds the customer by it.

use serde::Serialize;
use store::Store;
use store::customers::{CustomerNoteRow, CustomerRow, CustomerTicketRow, Details};

use crate::audit::{self, Actor};
use crate::botpress::api::{ApiError, Credentials};
use crate::clock::now_ms;
use crate::effects::{Effects, Holders};
use crate::realtime::Change;
use crate::tickets::Status;
use crate::users::User;
use crate::{Error, Result, Services};

/// The most tickets and notes one page lists (newest first).
pub const MOST_TICKETS: i64 = 500;
pub const MOST_NOTES: i64 = 200;
const MAX_NAME: usize = 200;
const MAX_PHONE: usize = 40;
const MAX_COMPANY: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Customer {
    /// `cus_…`
    pub id: String,
    pub connection: String,
    pub name: Option<String>,
    /// As Botpress sent it (not verified).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: i64,
    /// When an agent last edited the details.
    pub edited_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CustomerTicket {
    /// The ticket's id, as Botpress knows it.
    pub id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// Who holds it (or held it when it closed).
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CustomerNote {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub at: i64,
}

/// Everything the customer page shows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub customer: Customer,
    /// The tickets the viewer may see, newest first, at most 500.
    pub tickets: Vec<CustomerTicket>,
    /// Newest first, at most 200.
    pub notes: Vec<CustomerNote>,
    /// Whether their connection can be asked for the Botpress user's attributes.
    pub botpress_linked: bool,
}

impl From<CustomerRow> for Customer {
    fn from(c: CustomerRow) -> Self {
        Customer {
            id: c.public_id,
            connection: c.connection,
            name: c.name,
            email: c.email,
            phone: c.phone,
            company: c.company,
            created_at: c.created_at,
            edited_at: c.edited_at,
        }
    }
}

impl From<CustomerTicketRow> for CustomerTicket {
    fn from(t: CustomerTicketRow) -> Self {
        CustomerTicket {
            id: t.remote_id,
            title: t.title,
            status: t.status,
            created_at: t.created_at,
            closed_at: t.closed_at,
            agent: t.agent,
        }
    }
}

impl From<CustomerNoteRow> for CustomerNote {
    fn from(n: CustomerNoteRow) -> Self {
        CustomerNote {
            id: n.id,
            author: n.author,
            text: n.text,
            at: n.created_at,
        }
    }
}

/// The customer a public id names, if `viewer` may see them (see the module's
/// comment): to anyone else, as to everyone for an unknown id, it is not found.
/// Ids Baton gave out are unique; an id Botpress made up (a customer first seen in
/// a message) may repeat across connections.
pub async fn find(store: &dyn Store, viewer: i64, public_id: &str) -> Result<i64> {
    let ids = store
        .autocommit()
        .await?
        .customer_ids(viewer, public_id)
        .await?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound("customer")),
        _ => Err(Error::Conflict(format!(
            "{public_id:?} names customers on more than one connection"
        ))),
    }
}

pub async fn get(store: &dyn Store, id: i64) -> Result<Customer> {
    Ok(store
        .autocommit()
        .await?
        .customer_get(id)
        .await?
        .ok_or(Error::NotFound("customer"))?
        .into())
}

/// The customer page, as `viewer` sees it: their tickets are only those `viewer`
/// may see. (`id` comes from [`find`], which checked that they may see the
/// customer.)
pub async fn profile(store: &dyn Store, viewer: i64, id: i64) -> Result<Profile> {
    // One snapshot, so the tickets and notes belong to the customer shown.
    let mut tx = store.read().await?;
    let customer = tx
        .customer_get(id)
        .await?
        .ok_or(Error::NotFound("customer"))?
        .into();
    let tickets = tx.customer_tickets(viewer, id, MOST_TICKETS).await?;
    let notes = tx.customer_notes(id, MOST_NOTES).await?;
    let botpress_linked = tx.customer_botpress_linked(id).await?;
    Ok(Profile {
        customer,
        tickets: tickets.into_iter().map(Into::into).collect(),
        notes: notes.into_iter().map(Into::into).collect(),
        botpress_linked,
    })
}

/// Changes to a customer's details: `None` keeps a field, an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

/// A field as stored: trimmed, at most `most` characters, empty as null.
fn field(raw: &Option<String>, what: &str, most: usize) -> Result<Option<Option<String>>> {
    raw.as_deref()
        .map(|r| {
            let value = r.trim();
            let length = value.chars().count();
            if length > most {
                return Err(Error::invalid(format!(
                    "the {what} is {length} characters; the most is {most}"
                )));
            }
            if value.chars().any(char::is_control) {
                return Err(Error::invalid(format!(
                    "the {what} cannot contain line breaks or control characters"
                )));
            }
            Ok((!value.is_empty()).then(|| value.to_owned()))
        })
        .transpose()
}

/// Edits a customer's details (any account; audited, since it is personal data).
pub async fn update(services: &Services, actor: &Actor, id: i64, edit: &Edit) -> Result<Customer> {
    let name = field(&edit.name, "name", MAX_NAME)?;
    let phone = field(&edit.phone, "phone number", MAX_PHONE)?;
    let company = field(&edit.company, "company", MAX_COMPANY)?;
    let now = now_ms();
    let mut tx = services.store.write().await?;
    let before = tx
        .customer_details(id)
        .await?
        .ok_or(Error::NotFound("customer"))?;
    let after = Details {
        public_id: before.public_id.clone(),
        name: name.unwrap_or(before.name.clone()),
        phone: phone.unwrap_or(before.phone.clone()),
        company: company.unwrap_or(before.company.clone()),
    };
    tx.customer_update(id, &after, now).await?;
    let detail = serde_json::json!({
        "customer": before.public_id,
        "before": {"name": before.name, "phone": before.phone, "company": before.company},
        "after": {"name": after.name, "phone": after.phone, "company": after.company},
    });
    audit::record(&mut *tx, actor, "customer.update", detail).await?;
    let mut effects = Effects::new();
    announce(&mut *tx, &mut effects, id, before.public_id).await?;
    services.commit_session(tx, effects).await?;
    get(&*services.store, id).await
}

/// Tells whoever may see the customer (those whose inbox shows their bot) that
/// their page changed.
async fn announce(
    tx: &mut dyn store::Tx,
    effects: &mut Effects,
    id: i64,
    public_id: String,
) -> Result<()> {
    let connection = tx
        .customer_connection(id)
        .await?
        .ok_or(Error::NotFound("customer"))?;
    let change = Change::CustomerChanged {
        customer: public_id,
    };
    effects
        .publish_ticket(tx, connection, Holders::Known(Vec::new()), change)
        .await
}

/// Adds a note about the customer, which every ticket of theirs shows.
pub async fn add_note(
    services: &Services,
    author: &User,
    id: i64,
    text: &str,
) -> Result<CustomerNote> {
    let text = crate::tickets::notes::validate(text)?;
    let now = now_ms();
    let mut tx = services.store.write().await?;
    let public_id = tx
        .customer_details(id)
        .await?
        .ok_or(Error::NotFound("customer"))?
        .public_id;
    let note = tx.customer_note_insert(id, author.id, text, now).await?;
    let mut effects = Effects::new();
    announce(&mut *tx, &mut effects, id, public_id).await?;
    services.commit_session(tx, effects).await?;
    Ok(CustomerNote {
        id: note,
        author: author.name.clone(),
        text: text.to_owned(),
        at: now,
    })
}

/// What Botpress knows about the customer: their user's tags.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BotpressUser {
    /// The Botpress user the attributes are from (the customer's own user when
    /// hitl-api's proxy user names it, else the proxy user).
    pub user_id: String,
    pub name: Option<String>,
    /// Tag name and value, by name.
    pub tags: Vec<(String, String)>,
}

/// Asks Botpress for the customer's user, on demand (an agent pressed a button).
/// The user is the one their messages came from (`payload.userId`, hitl-api's proxy
/// user), and through its `upstream` tag, the customer's own.
pub async fn botpress_user(services: &Services, id: i64) -> Result<BotpressUser> {
    let (connection, proxy) = {
        let mut tx = services.store.autocommit().await?;
        let connection = tx
            .customer_connection(id)
            .await?
            .ok_or(Error::NotFound("customer"))?;
        (connection, tx.customer_botpress_user_id(id).await?)
    };
    let secrets = crate::connections::secrets(&*services.store, connection).await?;
    let Some((bot_id, token)) = secrets.api_credentials() else {
        return Err(Error::invalid(
            "this customer's bot has no Botpress API credentials; an admin can add them on the connections page",
        ));
    };
    let proxy = proxy.ok_or_else(|| {
        Error::invalid("Botpress has not said which of its users this customer is yet")
    })?;
    let creds = Credentials { bot_id, token };
    let unreachable = |e: ApiError| {
        tracing::warn!(error = %e, customer = id, "Botpress user lookup failed");
        Error::Upstream(format!("Botpress could not be asked: {e}"))
    };
    let Some(mut user) = services
        .api
        .user(creds, &proxy)
        .await
        .map_err(unreachable)?
    else {
        return Err(Error::NotFound("Botpress user"));
    };
    if let Some(upstream) = user.upstream().map(str::to_owned)
        && let Some(own) = services
            .api
            .user(creds, &upstream)
            .await
            .map_err(unreachable)?
    {
        user = own;
    }
    let mut tags: Vec<(String, String)> = user.tags.into_iter().collect();
    tags.sort();
    Ok(BotpressUser {
        user_id: user.id,
        name: user.name,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_bounded_and_cleared_when_empty() {
        let f = |raw: Option<&str>| field(&raw.map(str::to_owned), "name", 5);
        assert_eq!(f(None).unwrap(), None, "absent: kept");
        assert_eq!(f(Some("  Ana ")).unwrap(), Some(Some("Ana".into())));
        assert_eq!(f(Some("   ")).unwrap(), Some(None), "empty: cleared");
        assert!(f(Some("Anabelle")).is_err());
        assert!(f(Some("A\nB")).is_err());
    }
}
