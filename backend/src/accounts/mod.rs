//! Accounts: passwords, deactivation, personal API tokens.
//!
//! Ending access is immediate: a password change or a deactivation bumps the account's
//! `auth_epoch`, and every session and token carries the epoch it was issued under, so
//! all of them stop working at once without having to be found and deleted.

pub mod availability;
pub mod links;
pub mod password;
pub mod people;
pub mod setup;
pub mod throttle;

use serde::Serialize;

use crate::clock::now_ms;
use crate::effects::Effects;
use crate::users::{Role, User};
use crate::{Error, Result, Services, ids};

/// What authentication needs to know about an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub auth_epoch: i64,
}

/// Creates an account, with a password or (for an invitation) without one.
pub async fn create_user(
    store: &dyn store::Store,
    email: &str,
    name: &str,
    role: Role,
    password: Option<String>,
) -> Result<User> {
    crate::users::validate(email, name)?;
    let hash = match password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    create_with_hash(store, email, name, role, hash).await
}

/// [`create_user`] with the password already hashed.
pub(crate) async fn create_with_hash(
    store: &dyn store::Store,
    email: &str,
    name: &str,
    role: Role,
    hash: Option<String>,
) -> Result<User> {
    let user = crate::users::create(store, email, name, role).await?;
    if let Some(hash) = hash {
        let mut tx = store.write().await?;
        tx.user_set_first_password(user.id, &hash).await?;
        tx.commit().await?;
    }
    Ok(user)
}

pub async fn find_by_email(store: &dyn store::Store, email: &str) -> Result<User> {
    let mut tx = store.read().await?;
    let id = tx
        .user_id_by_email(email.trim())
        .await?
        .ok_or(Error::NotFound("user"))?;
    crate::users::get_in(&mut *tx, id).await
}

/// Whether any account exists yet (a fresh install has none).
pub async fn any_user(store: &dyn store::Store) -> Result<bool> {
    Ok(store.autocommit().await?.users_any().await?)
}

/// Checks an email and password. `None` for a wrong password, an unknown email, an
/// account without a password, or a deactivated account; all take the same time.
pub async fn authenticate(
    store: &dyn store::Store,
    email: &str,
    password: String,
) -> Result<Option<Credentials>> {
    let row = store.autocommit().await?.user_sign_in(email.trim()).await?;
    let stored = row.as_ref().and_then(|r| r.password_hash.clone());
    let matches = password::verify(password, stored).await?;
    match row {
        Some(r) if matches && r.active => Ok(Some(Credentials {
            user: crate::users::get(store, r.id).await?,
            auth_epoch: r.auth_epoch,
        })),
        _ => Ok(None),
    }
}

/// The account's current epoch, if it is active: sessions and tokens issued under
/// another epoch are void.
pub async fn current_epoch(store: &dyn store::Store, user: i64) -> Result<Option<i64>> {
    epoch_in(&mut *store.autocommit().await?, user).await
}

/// The account behind a session, if it is active (the session's epoch is checked
/// against this one's).
pub async fn signed_in(store: &dyn store::Store, user: i64) -> Result<Option<Credentials>> {
    // Every signed-in request asks this: two single reads, no transaction.
    let mut tx = store.autocommit().await?;
    let Some(auth_epoch) = epoch_in(&mut *tx, user).await? else {
        return Ok(None);
    };
    let user = crate::users::get_in(&mut *tx, user).await?;
    Ok(Some(Credentials { user, auth_epoch }))
}

async fn epoch_in(tx: &mut dyn store::Tx, user: i64) -> Result<Option<i64>> {
    Ok(tx
        .user_epoch(user)
        .await?
        .filter(|(_, active)| *active)
        .map(|(epoch, _)| epoch))
}

/// Sets a new password and ends every session and token of the account.
pub async fn set_password(store: &dyn store::Store, user: i64, new_password: String) -> Result<()> {
    let hash = password::hash(new_password).await?;
    let mut tx = store.write().await?;
    if !tx.user_set_password(user, &hash).await? {
        return Err(Error::NotFound("user"));
    }
    tx.commit().await?;
    Ok(())
}

/// Deactivates an account (accounts are never deleted: tickets and the audit log keep
/// pointing at them). Its sessions and tokens end at once and its open tickets go
/// back to the queue. The last active admin cannot be deactivated. Returns the
/// number of tickets returned to the queue.
pub async fn deactivate(services: &Services, user: i64) -> Result<u64> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let (role, active) = tx.user_role(user).await?.ok_or(Error::NotFound("user"))?;
    if !active {
        return Ok(0);
    }
    if role == Role::Admin {
        ensure_another_admin(&mut *tx).await?;
    }
    tx.user_deactivate(user).await?;
    let requeued =
        crate::tickets::lifecycle::requeue_held_by(&mut *tx, &mut effects, user, now).await?;
    effects.sign_out(user);
    services.commit_session(tx, effects).await?;
    Ok(requeued)
}

/// Refuses to take away the last active admin (inside the write transaction that
/// would do it), or nobody could manage Baton any more.
pub(crate) async fn ensure_another_admin(tx: &mut dyn store::Tx) -> Result<()> {
    if tx.admins_active().await? <= 1 {
        return Err(Error::Conflict(
            "this is the last active admin; make someone else admin first".into(),
        ));
    }
    Ok(())
}

/// Lets a deactivated account sign in again. Invitation and reset links issued
/// before are void: whoever had one while the account was off must not get in
/// through it now.
pub async fn reactivate(store: &dyn store::Store, user: i64) -> Result<()> {
    let now = now_ms();
    let mut tx = store.write().await?;
    if !tx.user_activate(user).await? {
        return Err(Error::NotFound("user"));
    }
    tx.links_void(user, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A personal API token as its owner sees it (the secret itself is shown only once).
pub use store::accounts::ApiToken;

/// Creates a personal API token and returns it with its id. Only its hash is stored.
pub async fn create_token(
    store: &dyn store::Store,
    user: i64,
    label: &str,
) -> Result<(i64, String)> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::invalid("a token label must be 1 to 100 characters"));
    }
    let mut tx = store.write().await?;
    let epoch = epoch_in(&mut *tx, user)
        .await?
        .ok_or_else(|| Error::Conflict("the account is deactivated".into()))?;
    let token = format!("baton_{}", ids::new_token()?);
    let digest = ids::token_digest(&token);
    let id = tx
        .token_insert(user, label, &digest, epoch, now_ms())
        .await?;
    tx.commit().await?;
    Ok((id, token))
}

/// The account a bearer token belongs to, if the token is live: not revoked, issued
/// under the account's current epoch, and the account active.
pub async fn authenticate_token(store: &dyn store::Store, token: &str) -> Result<Option<User>> {
    Ok(authenticate_token_id(store, token)
        .await?
        .map(|(user, _)| user))
}

/// [`authenticate_token`], also returning the token's row id (websockets remember it,
/// so revoking the token closes them).
pub async fn authenticate_token_id(
    store: &dyn store::Store,
    token: &str,
) -> Result<Option<(User, i64)>> {
    let digest = ids::token_digest(token);
    // Every request of a program asks this: single statements, no transaction.
    let mut tx = store.autocommit().await?;
    let Some((id, user)) = tx.token_live(&digest).await? else {
        return Ok(None);
    };
    let user = crate::users::get_in(&mut *tx, user).await?;
    tx.token_used(id, now_ms()).await?;
    Ok(Some((user, id)))
}

pub async fn list_tokens(store: &dyn store::Store, user: i64) -> Result<Vec<ApiToken>> {
    Ok(store.autocommit().await?.tokens_of(user).await?)
}

/// Revokes one of `user`'s tokens.
pub async fn revoke_token(store: &dyn store::Store, user: i64, token: i64) -> Result<()> {
    let mut tx = store.write().await?;
    if !tx.token_revoke(user, token, now_ms()).await? {
        return Err(Error::NotFound("token"));
    }
    tx.commit().await?;
    Ok(())
}

/// Changes one's own password. The current password is checked first, so a session
/// left open on a shared computer cannot lock its owner out. Every session and token
/// of the account ends, the caller's included (the caller signs in again).
pub async fn change_own_password(
    store: &dyn store::Store,
    user: i64,
    current: String,
    new_password: String,
) -> Result<()> {
    password::validate(&new_password)?;
    let stored = store
        .autocommit()
        .await?
        .user_password_hash(user)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !password::verify(current, stored).await? {
        return Err(Error::invalid("the current password is not right"));
    }
    set_password(store, user, new_password).await
}

/// An agent's alert preferences (the inbox reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// Play a sound when a ticket is queued.
    pub sound: bool,
    /// Show a browser notification when a ticket is queued.
    pub desktop: bool,
    /// Alert even while the Baton tab is the one in front.
    pub when_focused: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            sound: true,
            desktop: true,
            when_focused: false,
        }
    }
}

pub async fn notification_settings(
    store: &dyn store::Store,
    user: i64,
) -> Result<NotificationSettings> {
    let raw = store
        .autocommit()
        .await?
        .user_notification_settings(user)
        .await?
        .ok_or(Error::NotFound("user"))?;
    // Settings written by an older version may lack newer keys: defaults fill them.
    Ok(serde_json::from_str(&raw).unwrap_or_default())
}

pub async fn set_notification_settings(
    store: &dyn store::Store,
    user: i64,
    settings: NotificationSettings,
) -> Result<()> {
    let raw = serde_json::to_string(&settings)
        .map_err(|e| Error::Internal(format!("cannot encode settings: {e}")))?;
    let mut tx = store.write().await?;
    tx.user_set_notification_settings(user, &raw).await?;
    tx.commit().await?;
    Ok(())
}
