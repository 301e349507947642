//! First run: while no account exists, the server issues a one-time setup link; the
//! person who opens it creates the first admin. The link is single-use, expires, and
//! stops working once any account exists (also one made with the CLI).

use crate::clock::now_ms;
use crate::users::{Role, User};
use crate::{Error, Result, ids};

/// How long a setup link stays valid.
pub const VALID_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// A new setup link token, replacing any earlier unused one. Only its hash is stored.
pub async fn issue(store: &dyn store::Store) -> Result<String> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let now = now_ms();
    let mut tx = store.write().await?;
    tx.setup_link_replace(&digest, now, now + VALID_FOR_MS)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Whether `token` would still create the first admin: unused, not expired, and no
/// account exists yet. The setup page asks first, so a spent link says so at once
/// instead of showing a form that can only fail.
pub async fn usable(store: &dyn store::Store, token: &str) -> Result<bool> {
    Ok(live_link(&mut *store.autocommit().await?, token)
        .await?
        .is_some())
}

/// The setup link's id, if `token` would still create the first admin.
async fn live_link(tx: &mut dyn store::Tx, token: &str) -> Result<Option<i64>> {
    let digest = ids::token_digest(token);
    let link = tx.setup_link_live(&digest, now_ms()).await?;
    Ok(match link {
        Some(id) if !tx.users_any().await? => Some(id),
        _ => None,
    })
}

const NOT_USABLE: &str =
    "this setup link is not valid (used, expired, or Baton already has accounts)";

/// Creates the first admin with a valid, unused setup token.
pub async fn complete(
    store: &dyn store::Store,
    token: &str,
    email: &str,
    name: &str,
    password: String,
) -> Result<User> {
    // Check everything the person typed before spending the link on it, and the
    // link (and that no account exists yet) before the costly hash.
    crate::users::validate(email, name)?;
    if !usable(store, token).await? {
        return Err(Error::invalid(NOT_USABLE));
    }
    let hash = super::password::hash(password).await?;
    let mut tx = store.write().await?;
    let Some(link) = live_link(&mut *tx, token).await? else {
        return Err(Error::invalid(NOT_USABLE));
    };
    tx.link_spend(link, now_ms()).await?;
    tx.commit().await?;
    // The link is spent first, so a second submission cannot make a second admin.
    super::create_with_hash(store, email, name, Role::Admin, Some(hash)).await
}
