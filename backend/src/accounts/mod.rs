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
use sqlx::SqlitePool;

use crate::clock::now_ms;
use crate::effects::Effects;
use crate::users::{Role, User};
use crate::{Error, Result, Services, db, ids};

/// What authentication needs to know about an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub auth_epoch: i64,
}

/// Creates an account, with a password or (for an invitation) without one.
pub async fn create_user(
    pool: &SqlitePool,
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
    create_with_hash(pool, email, name, role, hash).await
}

/// [`create_user`] with the password already hashed.
pub(crate) async fn create_with_hash(
    pool: &SqlitePool,
    email: &str,
    name: &str,
    role: Role,
    hash: Option<String>,
) -> Result<User> {
    let user = crate::users::create(pool, email, name, role).await?;
    if let Some(hash) = hash {
        sqlx::query!(
            "update users set password_hash = ? where id = ?",
            hash,
            user.id
        )
        .execute(pool)
        .await?;
    }
    Ok(user)
}

pub async fn find_by_email(pool: &SqlitePool, email: &str) -> Result<User> {
    let email = email.trim();
    let id = sqlx::query_scalar!(r#"select id as "id!" from users where email = ?"#, email)
        .fetch_optional(pool)
        .await?
        .ok_or(Error::NotFound("user"))?;
    crate::users::get(pool, id).await
}

/// Whether any account exists yet (a fresh install has none).
pub async fn any_user(pool: &SqlitePool) -> Result<bool> {
    Ok(
        sqlx::query_scalar!(r#"select exists(select 1 from users) as "any!: bool""#)
            .fetch_one(pool)
            .await?,
    )
}

/// Checks an email and password. `None` for a wrong password, an unknown email, an
/// account without a password, or a deactivated account; all take the same time.
pub async fn authenticate(
    pool: &SqlitePool,
    email: &str,
    password: String,
) -> Result<Option<Credentials>> {
    let email = email.trim();
    let row = sqlx::query!(
        r#"select id as "id!", password_hash, auth_epoch, active as "active: bool"
           from users where email = ?"#,
        email
    )
    .fetch_optional(pool)
    .await?;
    let stored = row.as_ref().and_then(|r| r.password_hash.clone());
    let matches = password::verify(password, stored).await?;
    match row {
        Some(r) if matches && r.active => Ok(Some(Credentials {
            user: crate::users::get(pool, r.id).await?,
            auth_epoch: r.auth_epoch,
        })),
        _ => Ok(None),
    }
}

/// The account's current epoch, if it is active: sessions and tokens issued under
/// another epoch are void.
pub async fn current_epoch(pool: &SqlitePool, user: i64) -> Result<Option<i64>> {
    Ok(sqlx::query!(
        r#"select auth_epoch, active as "active: bool" from users where id = ?"#,
        user
    )
    .fetch_optional(pool)
    .await?
    .filter(|r| r.active)
    .map(|r| r.auth_epoch))
}

/// Sets a new password and ends every session and token of the account.
pub async fn set_password(pool: &SqlitePool, user: i64, new_password: String) -> Result<()> {
    let hash = password::hash(new_password).await?;
    let done = sqlx::query!(
        "update users set password_hash = ?, auth_epoch = auth_epoch + 1 where id = ?",
        hash,
        user
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("user"));
    }
    Ok(())
}

/// Deactivates an account (accounts are never deleted: tickets and the audit log keep
/// pointing at them). Its sessions and tokens end at once and its open tickets go
/// back to the queue. The last active admin cannot be deactivated. Returns the
/// number of tickets returned to the queue.
pub async fn deactivate(services: &Services, user: i64) -> Result<u64> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = db::begin_write(&services.db).await?;
    let target = sqlx::query!(
        r#"select role as "role: Role", active as "active: bool" from users where id = ?"#,
        user
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("user"))?;
    if !target.active {
        return Ok(0);
    }
    if target.role == Role::Admin {
        ensure_another_admin(&mut tx).await?;
    }
    sqlx::query!(
        "update users set active = 0, auth_epoch = auth_epoch + 1 where id = ?",
        user
    )
    .execute(&mut *tx)
    .await?;
    let requeued =
        crate::tickets::lifecycle::requeue_held_by_in(&mut tx, &mut effects, user, now).await?;
    effects.sign_out(user);
    services.commit(tx, effects).await?;
    Ok(requeued)
}

/// Refuses to take away the last active admin (inside the write transaction that
/// would do it), or nobody could manage Baton any more.
pub(crate) async fn ensure_another_admin(tx: &mut sqlx::SqliteConnection) -> Result<()> {
    let admins = sqlx::query_scalar!(
        r#"select count(*) as "n!: i64" from users where role = 'admin' and active = 1"#
    )
    .fetch_one(&mut *tx)
    .await?;
    if admins <= 1 {
        return Err(Error::Conflict(
            "this is the last active admin; make someone else admin first".into(),
        ));
    }
    Ok(())
}

/// Lets a deactivated account sign in again. Invitation and reset links issued
/// before are void: whoever had one while the account was off must not get in
/// through it now.
pub async fn reactivate(pool: &SqlitePool, user: i64) -> Result<()> {
    let now = now_ms();
    let mut tx = db::begin_write(pool).await?;
    let done = sqlx::query!("update users set active = 1 where id = ?", user)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("user"));
    }
    sqlx::query!(
        "update one_time_links set used_at = ?
         where user_id = ? and used_at is null and purpose in ('invite', 'reset')",
        now,
        user
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A personal API token as its owner sees it (the secret itself is shown only once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Creates a personal API token and returns it with its id. Only its hash is stored.
pub async fn create_token(pool: &SqlitePool, user: i64, label: &str) -> Result<(i64, String)> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::invalid("a token label must be 1 to 100 characters"));
    }
    let epoch = current_epoch(pool, user)
        .await?
        .ok_or_else(|| Error::Conflict("the account is deactivated".into()))?;
    let token = format!("baton_{}", ids::new_token()?);
    let digest = ids::token_digest(&token);
    let now = now_ms();
    let id = sqlx::query_scalar!(
        r#"insert into api_tokens (user_id, label, token_sha256, auth_epoch, created_at)
           values (?, ?, ?, ?, ?)
           returning id as "id!""#,
        user,
        label,
        digest,
        epoch,
        now
    )
    .fetch_one(pool)
    .await?;
    Ok((id, token))
}

/// The account a bearer token belongs to, if the token is live: not revoked, issued
/// under the account's current epoch, and the account active.
pub async fn authenticate_token(pool: &SqlitePool, token: &str) -> Result<Option<User>> {
    Ok(authenticate_token_id(pool, token)
        .await?
        .map(|(user, _)| user))
}

/// [`authenticate_token`], also returning the token's row id (websockets remember it,
/// so revoking the token closes them).
pub async fn authenticate_token_id(pool: &SqlitePool, token: &str) -> Result<Option<(User, i64)>> {
    let digest = ids::token_digest(token);
    let row = sqlx::query!(
        r#"select t.id as "id!", t.user_id
           from api_tokens t join users u on u.id = t.user_id
           where t.token_sha256 = ? and t.revoked_at is null
             and t.auth_epoch = u.auth_epoch and u.active = 1"#,
        digest
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = now_ms();
    sqlx::query!(
        "update api_tokens set last_used_at = ? where id = ?",
        now,
        row.id
    )
    .execute(pool)
    .await?;
    Ok(Some((crate::users::get(pool, row.user_id).await?, row.id)))
}

pub async fn list_tokens(pool: &SqlitePool, user: i64) -> Result<Vec<ApiToken>> {
    Ok(sqlx::query_as!(
        ApiToken,
        r#"select t.id as "id!", t.label, t.created_at, t.last_used_at
           from api_tokens t join users u on u.id = t.user_id
           where t.user_id = ? and t.revoked_at is null and t.auth_epoch = u.auth_epoch
           order by t.id"#,
        user
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes one of `user`'s tokens.
pub async fn revoke_token(pool: &SqlitePool, user: i64, token: i64) -> Result<()> {
    let now = now_ms();
    let done = sqlx::query!(
        "update api_tokens set revoked_at = ? where id = ? and user_id = ? and revoked_at is null",
        now,
        token,
        user
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("token"));
    }
    Ok(())
}

/// Changes one's own password. The current password is checked first, so a session
/// left open on a shared computer cannot lock its owner out. Every session and token
/// of the account ends, the caller's included (the caller signs in again).
pub async fn change_own_password(
    pool: &SqlitePool,
    user: i64,
    current: String,
    new_password: String,
) -> Result<()> {
    password::validate(&new_password)?;
    let stored = sqlx::query_scalar!("select password_hash from users where id = ?", user)
        .fetch_optional(pool)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !password::verify(current, stored).await? {
        return Err(Error::invalid("the current password is not right"));
    }
    set_password(pool, user, new_password).await
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

pub async fn notification_settings(pool: &SqlitePool, user: i64) -> Result<NotificationSettings> {
    let raw = sqlx::query_scalar!("select notification_settings from users where id = ?", user)
        .fetch_optional(pool)
        .await?
        .ok_or(Error::NotFound("user"))?;
    // Settings written by an older version may lack newer keys: defaults fill them.
    Ok(serde_json::from_str(&raw).unwrap_or_default())
}

pub async fn set_notification_settings(
    pool: &SqlitePool,
    user: i64,
    settings: NotificationSettings,
) -> Result<()> {
    let raw = serde_json::to_string(&settings)
        .map_err(|e| Error::Internal(format!("cannot encode settings: {e}")))?;
    sqlx::query!(
        "update users set notification_settings = ? where id = ?",
        raw,
        user
    )
    .execute(pool)
    .await?;
    Ok(())
}
