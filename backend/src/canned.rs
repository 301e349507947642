//! Canned replies: answers agents fill into the composer with `/shortcut`.
//!
//! Shared replies belong to the team and only admins change them (each change is
//! audited); personal ones belong to one agent, who alone sees and changes them. The
//! rules for a shortcut and a body, and the variables, are in `protocol::canned`, so
//! the browser fills a reply exactly as the server validated it.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::audit::{Actor, audit_in};
use crate::clock::now_ms;
use crate::error::ResultExt;
use crate::users::{Role, User};
use crate::{Error, Result, db};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub id: i64,
    pub shortcut: String,
    pub body: String,
    /// Offered to everyone and managed by admins; else the caller's own.
    pub shared: bool,
    pub updated_at: i64,
}

/// A new reply, or the new text of one.
#[derive(Debug, Clone)]
pub struct Draft {
    pub shortcut: String,
    pub body: String,
}

fn check(draft: &Draft) -> Result<(String, String)> {
    let (shortcut, body) =
        protocol::canned::validate(&draft.shortcut, &draft.body).map_err(Error::Invalid)?;
    Ok((shortcut.to_owned(), body.to_owned()))
}

fn taken(shortcut: &str, shared: bool) -> impl FnOnce() -> String + '_ {
    move || {
        if shared {
            format!("a shared reply with the shortcut /{shortcut} already exists")
        } else {
            format!("you already have a reply with the shortcut /{shortcut}")
        }
    }
}

/// The replies offered to `caller`: their own first, then the shared ones, each by
/// shortcut.
pub async fn list(db: &SqlitePool, caller: &User) -> Result<Vec<Reply>> {
    Ok(sqlx::query_as!(
        Reply,
        r#"select id as "id!", shortcut, body, owner_id is null as "shared!: bool", updated_at
           from canned_replies where owner_id is null or owner_id = ?
           order by owner_id is null, lower(shortcut), id"#,
        caller.id
    )
    .fetch_all(db)
    .await?)
}

/// One reply the caller may see; `NotFound` for another agent's personal one.
pub async fn get(db: &SqlitePool, caller: &User, id: i64) -> Result<Reply> {
    sqlx::query_as!(
        Reply,
        r#"select id as "id!", shortcut, body, owner_id is null as "shared!: bool", updated_at
           from canned_replies where id = ? and (owner_id is null or owner_id = ?)"#,
        id,
        caller.id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("canned reply"))
}

const ADMINS_ONLY: &str = "only admins change shared replies";

fn is_admin(user: &User) -> bool {
    user.role == Role::Admin
}

pub async fn create(
    db: &SqlitePool,
    caller: &User,
    actor: &Actor,
    draft: &Draft,
    shared: bool,
) -> Result<Reply> {
    if shared && !is_admin(caller) {
        return Err(Error::NotAllowed(ADMINS_ONLY.into()));
    }
    let (shortcut, body) = check(draft)?;
    let owner = (!shared).then_some(caller.id);
    let now = now_ms();
    let mut tx = db::begin_write(db).await?;
    let id = sqlx::query_scalar!(
        r#"insert into canned_replies (owner_id, shortcut, body, created_at, updated_at)
           values (?, ?, ?, ?, ?) returning id as "id!""#,
        owner,
        shortcut,
        body,
        now,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .on_unique(taken(&shortcut, shared))?;
    if shared {
        let detail = serde_json::json!({"reply": id, "shortcut": shortcut});
        audit_in(&mut tx, actor, "canned.create", detail).await?;
    }
    tx.commit().await?;
    get(db, caller, id).await
}

/// The reply, if the caller may change it: their own, or a shared one for an admin.
async fn changeable(db: &SqlitePool, caller: &User, id: i64) -> Result<Reply> {
    let reply = get(db, caller, id).await?;
    if reply.shared && !is_admin(caller) {
        return Err(Error::NotAllowed(ADMINS_ONLY.into()));
    }
    Ok(reply)
}

/// Changes the shortcut and the body (a `None` keeps what is there).
pub async fn update(
    db: &SqlitePool,
    caller: &User,
    actor: &Actor,
    id: i64,
    shortcut: Option<String>,
    body: Option<String>,
) -> Result<Reply> {
    let old = changeable(db, caller, id).await?;
    let draft = Draft {
        shortcut: shortcut.unwrap_or(old.shortcut),
        body: body.unwrap_or(old.body),
    };
    let (shortcut, body) = check(&draft)?;
    let now = now_ms();
    let mut tx = db::begin_write(db).await?;
    sqlx::query!(
        "update canned_replies set shortcut = ?, body = ?, updated_at = ? where id = ?",
        shortcut,
        body,
        now,
        id
    )
    .execute(&mut *tx)
    .await
    .on_unique(taken(&shortcut, old.shared))?;
    if old.shared {
        let detail = serde_json::json!({"reply": id, "shortcut": shortcut});
        audit_in(&mut tx, actor, "canned.update", detail).await?;
    }
    tx.commit().await?;
    get(db, caller, id).await
}

pub async fn delete(db: &SqlitePool, caller: &User, actor: &Actor, id: i64) -> Result<()> {
    let old = changeable(db, caller, id).await?;
    let mut tx = db::begin_write(db).await?;
    sqlx::query!("delete from canned_replies where id = ?", id)
        .execute(&mut *tx)
        .await?;
    if old.shared {
        let detail = serde_json::json!({"reply": id, "shortcut": old.shortcut});
        audit_in(&mut tx, actor, "canned.delete", detail).await?;
    }
    tx.commit().await?;
    Ok(())
}
