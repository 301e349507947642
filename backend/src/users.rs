//! Agents and admins as the ticket and Botpress code needs them. Sign-in and
//! account management build on this table.

use crate::clock::now_ms;
use crate::error::ResultExt;
use crate::{Error, Result, ids};

pub use protocol::account::Role;

/// Reads a role as people and programs type it, with a message that says what is
/// allowed.
pub fn parse_role(raw: &str) -> Result<Role> {
    raw.parse()
        .map_err(|_| Error::invalid(format!("role must be admin or agent, not {raw:?}")))
}

pub use store::accounts::User;

/// The longest email address (RFC 5321's limit on a path).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// Checks an email and a display name, returning them trimmed.
pub fn validate<'a>(email: &'a str, name: &'a str) -> Result<(&'a str, &'a str)> {
    let email = email.trim();
    if !email.contains('@') || email.len() > MAX_EMAIL_LENGTH {
        return Err(Error::invalid(format!("{email:?} is not an email address")));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    Ok((email, name))
}

pub async fn create(store: &dyn store::Store, email: &str, name: &str, role: Role) -> Result<User> {
    let (email, name) = validate(email, name)?;
    let public_id = ids::new_id(ids::AGENT)?;
    let now = now_ms();
    let mut tx = store.write().await?;
    let id = tx
        .user_insert(&public_id, email, name, role, now)
        .await
        .on_unique(|| format!("a user with email {email:?} already exists"))?;
    let user = get_in(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn get(store: &dyn store::Store, id: i64) -> Result<User> {
    get_in(&mut *store.autocommit().await?, id).await
}

/// [`get`] inside a transaction.
pub async fn get_in(tx: &mut dyn store::Tx, id: i64) -> Result<User> {
    tx.user_get(id).await?.ok_or(Error::NotFound("user"))
}

/// The account Botpress and programs know as `agt_…`.
pub async fn find_by_public_id(store: &dyn store::Store, public_id: &str) -> Result<User> {
    let mut tx = store.read().await?;
    let id = tx
        .user_id_by_public_id(public_id)
        .await?
        .ok_or(Error::NotFound("agent"))?;
    get_in(&mut *tx, id).await
}
