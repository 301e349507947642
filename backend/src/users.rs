//! Agents and admins as the ticket and Botpress code needs them. Sign-in and
//! account management build on this table.

use serde::Serialize;
use sqlx::SqlitePool;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    /// What Botpress sees as the agent's `remoteUserId`.
    pub public_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

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

pub async fn create(db: &SqlitePool, email: &str, name: &str, role: Role) -> Result<User> {
    let (email, name) = validate(email, name)?;
    let public_id = ids::new_id(ids::AGENT)?;
    let now = now_ms();
    let id = sqlx::query_scalar!(
        r#"insert into users (public_id, email, name, role, created_at) values (?, ?, ?, ?, ?)
         returning id as "id!""#,
        public_id,
        email,
        name,
        role,
        now
    )
    .fetch_one(db)
    .await
    .on_unique(|| format!("a user with email {email:?} already exists"))?;
    get(db, id).await
}

pub async fn get(db: &SqlitePool, id: i64) -> Result<User> {
    sqlx::query_as!(
        User,
        r#"select id as "id!", public_id, email, name, role as "role: Role", active as "active: bool"
           from users where id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("user"))
}

/// The account Botpress and programs know as `agt_…`.
pub async fn find_by_public_id(db: &SqlitePool, public_id: &str) -> Result<User> {
    let id = sqlx::query_scalar!(
        r#"select id as "id!" from users where public_id = ?"#,
        public_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("agent"))?;
    get(db, id).await
}
