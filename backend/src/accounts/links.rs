//! One-time links for invitations and password resets.
//!
//! An admin (or the CLI) issues a link for an account; whoever opens it sets the
//! account's password. Only the token's hash is stored. A link works once, expires,
//! and issuing a new one for the same account voids the older ones, so a link sent to
//! the wrong place can be cancelled by sending another.

use serde::Serialize;
use store::Store;
pub use store::links::Purpose;

use crate::clock::now_ms;
use crate::{Error, Result, ids};

/// How long a link works: invitations longer than resets.
fn valid_for_ms(purpose: Purpose) -> i64 {
    const HOUR: i64 = 60 * 60 * 1000;
    match purpose {
        Purpose::Invite => 7 * 24 * HOUR,
        Purpose::Reset => 24 * HOUR,
    }
}

/// The path a link opens, below the public URL.
pub fn path(token: &str) -> String {
    format!("/welcome?token={token}")
}

/// Issues a link for `user`, voiding the account's earlier unused invite and reset
/// links. An account that never had a password gets an invitation, any other a
/// reset. Returns the token.
pub async fn issue(store: &dyn Store, user: i64) -> Result<String> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let now = now_ms();
    let mut tx = store.write().await?;
    let (active, has_password) = tx
        .link_account(user)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !active {
        return Err(Error::Conflict(
            "the account is deactivated; reactivate it first".into(),
        ));
    }
    let purpose = if has_password {
        Purpose::Reset
    } else {
        Purpose::Invite
    };
    tx.links_void(user, now).await?;
    tx.link_insert(purpose, user, &digest, now, now + valid_for_ms(purpose))
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
pub async fn peek(store: &dyn Store, token: &str) -> Result<LinkInfo> {
    let link = store
        .autocommit()
        .await?
        .link_live(&ids::token_digest(token), now_ms())
        .await?
        .ok_or_else(|| Error::invalid(NOT_VALID))?;
    Ok(LinkInfo {
        purpose: link.purpose,
        name: link.name,
        email: link.email,
    })
}

/// Sets the password through a live link and spends it. Every earlier session and
/// token of the account ends (the epoch moves on). Returns the account's email, for
/// signing in.
pub async fn complete(store: &dyn Store, token: &str, password: String) -> Result<String> {
    // The link first: a made-up token must not cost a hash (see `password`). Then
    // the password is checked and hashed before the link is spent, so a too-short
    // one costs nothing but a retry; the transaction below checks the link again.
    peek(store, token).await?;
    let hash = super::password::hash(password).await?;
    let now = now_ms();
    let mut tx = store.write().await?;
    let link = tx
        .link_live(&ids::token_digest(token), now)
        .await?
        .ok_or_else(|| Error::invalid(NOT_VALID))?;
    tx.link_spend(link.id, now).await?;
    tx.user_set_password(link.user_id, &hash).await?;
    tx.commit().await?;
    Ok(link.email)
}
