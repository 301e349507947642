//! The customer: who they are (as Botpress said, and as agents corrected), every
//! ticket of theirs, notes about them that every ticket shows, and, where the
//! connection has API credentials, what Botpress knows (their user's tags).
//!
//! Customers are named by their public id (`cus_…`, what Botpress knows them by).
//! Details an agent edits are kept: a later `/createRemoteUser` does not replace
//! the name (see `botpress::inbound`). The email stays as Botpress sent it, since
//! Botpress finds the customer by it.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::audit::{Actor, audit_in};
use crate::botpress::api::{ApiError, Credentials};
use crate::clock::now_ms;
use crate::effects::Effects;
use crate::realtime::Change;
use crate::tickets::Status;
use crate::users::User;
use crate::{Error, Result, Services, db};

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
    /// Newest first, at most 500.
    pub tickets: Vec<CustomerTicket>,
    /// Newest first, at most 200.
    pub notes: Vec<CustomerNote>,
    /// Whether their connection can be asked for the Botpress user's attributes.
    pub botpress_linked: bool,
}

/// The customer a public id names. Ids Baton gave out are unique; an id Botpress
/// made up (a customer first seen in a message) may repeat across connections.
pub async fn find(db: &SqlitePool, public_id: &str) -> Result<i64> {
    let ids = sqlx::query_scalar!(
        r#"select id as "id!" from customers where public_id = ? limit 2"#,
        public_id
    )
    .fetch_all(db)
    .await?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound("customer")),
        _ => Err(Error::Conflict(format!(
            "{public_id:?} names customers on more than one connection"
        ))),
    }
}

pub async fn get(db: &SqlitePool, id: i64) -> Result<Customer> {
    sqlx::query_as!(
        Customer,
        r#"select c.public_id as id, n.name as connection, c.name, c.email, c.phone, c.company,
                  c.created_at, c.edited_at
           from customers c join connections n on n.id = c.connection_id
           where c.id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("customer"))
}

pub async fn profile(db: &SqlitePool, id: i64) -> Result<Profile> {
    let customer = get(db, id).await?;
    let tickets = sqlx::query_as!(
        CustomerTicket,
        r#"select t.remote_id as id, t.title, t.status as "status: Status", t.created_at,
                  t.closed_at, u.name as "agent?"
           from tickets t left join users u on u.id = t.assignee_id
           where t.customer_id = ?
           order by t.created_at desc, t.id desc limit ?"#,
        id,
        MOST_TICKETS
    )
    .fetch_all(db)
    .await?;
    let notes = sqlx::query_as!(
        CustomerNote,
        r#"select n.id as "id!", u.name as author, n.text, n.created_at as at
           from customer_notes n join users u on u.id = n.author_id
           where n.customer_id = ?
           order by n.id desc limit ?"#,
        id,
        MOST_NOTES
    )
    .fetch_all(db)
    .await?;
    let linked = sqlx::query_scalar!(
        r#"select (n.botpress_bot_id is not null and n.botpress_bot_id != ''
                   and n.botpress_token is not null and n.botpress_token != '') as "linked!: bool"
           from customers c join connections n on n.id = c.connection_id
           where c.id = ?"#,
        id
    )
    .fetch_one(db)
    .await?;
    Ok(Profile {
        customer,
        tickets,
        notes,
        botpress_linked: linked,
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
    let mut tx = db::begin_write(&services.db).await?;
    let before = sqlx::query!(
        "select public_id, name, phone, company from customers where id = ?",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("customer"))?;
    let (name, phone, company) = (
        name.unwrap_or(before.name.clone()),
        phone.unwrap_or(before.phone.clone()),
        company.unwrap_or(before.company.clone()),
    );
    sqlx::query!(
        "update customers set name = ?, phone = ?, company = ?, edited_at = ?, updated_at = ?
         where id = ?",
        name,
        phone,
        company,
        now,
        now,
        id
    )
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({
        "customer": before.public_id,
        "before": {"name": before.name, "phone": before.phone, "company": before.company},
        "after": {"name": name, "phone": phone, "company": company},
    });
    audit_in(&mut tx, actor, "customer.update", detail).await?;
    let mut effects = Effects::new();
    effects.publish(Change::CustomerChanged {
        customer: before.public_id,
    });
    services.commit(tx, effects).await?;
    get(&services.db, id).await
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
    let mut tx = db::begin_write(&services.db).await?;
    let public_id = sqlx::query_scalar!("select public_id from customers where id = ?", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("customer"))?;
    let note = sqlx::query_scalar!(
        r#"insert into customer_notes (customer_id, author_id, text, created_at)
           values (?, ?, ?, ?) returning id as "id!""#,
        id,
        author.id,
        text,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut effects = Effects::new();
    effects.publish(Change::CustomerChanged {
        customer: public_id,
    });
    services.commit(tx, effects).await?;
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
    let connection = sqlx::query_scalar!("select connection_id from customers where id = ?", id)
        .fetch_optional(&services.db)
        .await?
        .ok_or(Error::NotFound("customer"))?;
    let secrets = crate::connections::secrets(&services.db, connection).await?;
    let Some((bot_id, token)) = secrets.api_credentials() else {
        return Err(Error::invalid(
            "this customer's bot has no Botpress API credentials; an admin can add them on the connections page",
        ));
    };
    let proxy = sqlx::query_scalar!(
        r#"select json_extract(m.payload, '$.userId') as "user_id!: String"
           from tickets t join messages m on m.ticket_id = t.id
           where t.customer_id = ? and m.origin = 'customer'
             and json_type(m.payload, '$.userId') = 'text'
           order by m.id desc limit 1"#,
        id
    )
    .fetch_optional(&services.db)
    .await?
    .ok_or_else(|| {
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
