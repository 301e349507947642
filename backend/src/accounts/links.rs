//! One-time links for invitations and password resets.
//!
//! An admin (or the CLI) issues a link for an account; whoever opens it sets the
//! account's password. Only the token's hash is stored. A link works once, expires,
//! and issuing a new one for the same account voids the older ones, so a link sent to
//! the wrong place can be cancelled by sending another.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::clock::now_ms;
use crate::{Error, Result, db, ids};

/// Why a link was issued; invitations live longer than resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Invite,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
    }

    fn valid_for_ms(self) -> i64 {
        const HOUR: i64 = 60 * 60 * 1000;
        match self {
            Purpose::Invite => 7 * 24 * HOUR,
            Purpose::Reset => 24 * HOUR,
        }
    }
}

/// The path a link opens, below the public URL.
pub fn path(token: &str) -> String {
    format!("/welcome?token={token}")
}

/// Issues a link for `user`, voiding the account's earlier unused invite and reset
/// links. An account that never had a password gets an invitation, any other a
/// reset. Returns the token.
pub async fn issue(pool: &SqlitePool, user: i64) -> Result<String> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let now = now_ms();
    let mut tx = db::begin_write(pool).await?;
    let row = sqlx::query!(
        r#"select active as "active: bool", (password_hash is not null) as "has_password!: bool"
           from users where id = ?"#,
        user
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("user"))?;
    if !row.active {
        return Err(Error::Conflict(
            "the account is deactivated; reactivate it first".into(),
        ));
    }
    let purpose = if row.has_password {
        Purpose::Reset
    } else {
        Purpose::Invite
    };
    let expires = now + purpose.valid_for_ms();
    let kind = purpose.as_str();
    sqlx::query!(
        "update one_time_links set used_at = ?
         where user_id = ? and purpose in ('invite', 'reset') and used_at is null",
        now,
        user
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into one_time_links (purpose, user_id, token_sha256, created_at, expires_at)
         values (?, ?, ?, ?, ?)",
        kind,
        user,
        digest,
        now,
        expires
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Whom a live link is for, so the page can greet them before they choose a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkInfo {
    pub purpose: Purpose,
    pub name: String,
    pub email: String,
}

const NOT_VALID: &str = "this link is not valid any more (used, replaced by a newer one, or expired); ask an admin for a new one";

/// What a live link is for; an error for a used, voided or expired one.
pub async fn peek(pool: &SqlitePool, token: &str) -> Result<LinkInfo> {
    let digest = ids::token_digest(token);
    let now = now_ms();
    let row = sqlx::query!(
        r#"select l.purpose, u.name, u.email
           from one_time_links l join users u on u.id = l.user_id
           where l.token_sha256 = ? and l.purpose in ('invite', 'reset')
             and l.used_at is null and l.expires_at > ? and u.active = 1"#,
        digest,
        now
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::invalid(NOT_VALID))?;
    Ok(LinkInfo {
        purpose: if row.purpose == "invite" {
            Purpose::Invite
        } else {
            Purpose::Reset
        },
        name: row.name,
        email: row.email,
    })
}

/// Sets the password through a live link and spends it. Every earlier session and
/// token of the account ends (the epoch moves on). Returns the account's email, for
/// signing in.
pub async fn complete(pool: &SqlitePool, token: &str, password: String) -> Result<String> {
    // The link first: a made-up token must not cost a hash (see `password`). Then
    // the password is checked and hashed before the link is spent, so a too-short
    // one costs nothing but a retry; the transaction below checks the link again.
    peek(pool, token).await?;
    let hash = super::password::hash(password).await?;
    let digest = ids::token_digest(token);
    let now = now_ms();
    let mut tx = db::begin_write(pool).await?;
    let row = sqlx::query!(
        r#"select l.id as "id!", u.id as "user!", u.email
           from one_time_links l join users u on u.id = l.user_id
           where l.token_sha256 = ? and l.purpose in ('invite', 'reset')
             and l.used_at is null and l.expires_at > ? and u.active = 1"#,
        digest,
        now
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::invalid(NOT_VALID))?;
    sqlx::query!(
        "update one_time_links set used_at = ? where id = ?",
        now,
        row.id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update users set password_hash = ?, auth_epoch = auth_epoch + 1 where id = ?",
        hash,
        row.user
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.email)
}
