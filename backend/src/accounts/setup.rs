//! First run: while no account exists, the server issues a one-time setup link; the
//! person who opens it creates the first admin. The link is single-use, expires, and
//! stops working once any account exists (also one made with the CLI).

use sqlx::SqlitePool;

use crate::clock::now_ms;
use crate::users::{Role, User};
use crate::{Error, Result, db, ids};

/// How long a setup link stays valid.
pub const VALID_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// A new setup link token, replacing any earlier unused one. Only its hash is stored.
pub async fn issue(pool: &SqlitePool) -> Result<String> {
    let token = ids::new_token()?;
    let digest = ids::token_digest(&token);
    let now = now_ms();
    let expires = now + VALID_FOR_MS;
    let mut tx = db::begin_write(pool).await?;
    sqlx::query!("delete from one_time_links where purpose = 'setup' and used_at is null")
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "insert into one_time_links (purpose, token_sha256, created_at, expires_at)
         values ('setup', ?, ?, ?)",
        digest,
        now,
        expires
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Whether `token` would still create the first admin: unused, not expired, and no
/// account exists yet. The setup page asks first, so a spent link says so at once
/// instead of showing a form that can only fail.
pub async fn usable(pool: &SqlitePool, token: &str) -> Result<bool> {
    let digest = ids::token_digest(token);
    let now = now_ms();
    let usable = sqlx::query_scalar!(
        r#"select (exists(select 1 from one_time_links
                          where purpose = 'setup' and token_sha256 = ? and used_at is null
                            and expires_at > ?)
                   and not exists(select 1 from users)) as "usable!: bool""#,
        digest,
        now
    )
    .fetch_one(pool)
    .await?;
    Ok(usable)
}

const NOT_USABLE: &str =
    "this setup link is not valid (used, expired, or Baton already has accounts)";

/// Creates the first admin with a valid, unused setup token.
pub async fn complete(
    pool: &SqlitePool,
    token: &str,
    email: &str,
    name: &str,
    password: String,
) -> Result<User> {
    // Check everything the person typed before spending the link on it, and the
    // link (and that no account exists yet) before the costly hash.
    crate::users::validate(email, name)?;
    if !usable(pool, token).await? {
        return Err(Error::invalid(NOT_USABLE));
    }
    let hash = super::password::hash(password).await?;
    let digest = ids::token_digest(token);
    let now = now_ms();
    let mut tx = db::begin_write(pool).await?;
    let link = sqlx::query_scalar!(
        r#"select id as "id!" from one_time_links
           where purpose = 'setup' and token_sha256 = ? and used_at is null and expires_at > ?"#,
        digest,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let any_user = sqlx::query_scalar!(r#"select exists(select 1 from users) as "any!: bool""#)
        .fetch_one(&mut *tx)
        .await?;
    let Some(link) = link.filter(|_| !any_user) else {
        return Err(Error::invalid(NOT_USABLE));
    };
    sqlx::query!(
        "update one_time_links set used_at = ? where id = ?",
        now,
        link
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // The link is spent first, so a second submission cannot make a second admin.
    super::create_with_hash(pool, email, name, Role::Admin, Some(hash)).await
}
