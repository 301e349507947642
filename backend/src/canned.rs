//! Canned replies: answers agents fill into the composer with `/shortcut`.
//!
//! Shared replies belong to the team and only admins change them (each change is
//! audited); personal ones belong to one agent, who alone sees and changes them. The
//! rules for a shortcut and a body, and the variables, are in `protocol::canned`, so
//! the browser fills a reply exactly as the server validated it.

use store::Store;

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::error::ResultExt;
use crate::users::{Role, User};
use crate::{Error, Result};

pub use store::canned::Reply;

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
pub async fn list(store: &dyn Store, caller: &User) -> Result<Vec<Reply>> {
    Ok(store.autocommit().await?.canned_list(caller.id).await?)
}

/// One reply the caller may see; `NotFound` for another agent's personal one.
pub async fn get(store: &dyn Store, caller: &User, id: i64) -> Result<Reply> {
    store
        .autocommit()
        .await?
        .canned_get(id, caller.id)
        .await?
        .ok_or(Error::NotFound("canned reply"))
}

const ADMINS_ONLY: &str = "only admins change shared replies";

fn is_admin(user: &User) -> bool {
    user.role == Role::Admin
}

pub async fn create(
    store: &dyn Store,
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
    let mut tx = store.write().await?;
    let id = tx
        .canned_insert(owner, &shortcut, &body, now_ms())
        .await
        .on_unique(taken(&shortcut, shared))?;
    if shared {
        let detail = serde_json::json!({"reply": id, "shortcut": shortcut});
        audit::record(&mut *tx, actor, "canned.create", detail).await?;
    }
    tx.commit().await?;
    get(store, caller, id).await
}

/// The reply, if the caller may change it: their own, or a shared one for an admin.
async fn changeable(store: &dyn Store, caller: &User, id: i64) -> Result<Reply> {
    let reply = get(store, caller, id).await?;
    if reply.shared && !is_admin(caller) {
        return Err(Error::NotAllowed(ADMINS_ONLY.into()));
    }
    Ok(reply)
}

/// Changes the shortcut and the body (a `None` keeps what is there).
pub async fn update(
    store: &dyn Store,
    caller: &User,
    actor: &Actor,
    id: i64,
    shortcut: Option<String>,
    body: Option<String>,
) -> Result<Reply> {
    let old = changeable(store, caller, id).await?;
    let draft = Draft {
        shortcut: shortcut.unwrap_or(old.shortcut),
        body: body.unwrap_or(old.body),
    };
    let (shortcut, body) = check(&draft)?;
    let mut tx = store.write().await?;
    tx.canned_update(id, &shortcut, &body, now_ms())
        .await
        .on_unique(taken(&shortcut, old.shared))?;
    if old.shared {
        let detail = serde_json::json!({"reply": id, "shortcut": shortcut});
        audit::record(&mut *tx, actor, "canned.update", detail).await?;
    }
    tx.commit().await?;
    get(store, caller, id).await
}

pub async fn delete(store: &dyn Store, caller: &User, actor: &Actor, id: i64) -> Result<()> {
    let old = changeable(store, caller, id).await?;
    let mut tx = store.write().await?;
    tx.canned_delete(id).await?;
    if old.shared {
        let detail = serde_json::json!({"reply": id, "shortcut": old.shortcut});
        audit::record(&mut *tx, actor, "canned.delete", detail).await?;
    }
    tx.commit().await?;
    Ok(())
}
