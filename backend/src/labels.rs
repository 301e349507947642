//! Labels: admins define them (a name and a colour, audited); any agent puts them on
//! tickets and takes them off, live for everyone. The inbox filters by them.

use std::collections::HashMap;

use protocol::realtime::Change;
use serde::Serialize;
use sqlx::SqlitePool;

use crate::audit::{Actor, audit_in};
use crate::clock::now_ms;
use crate::effects::Effects;
use crate::error::ResultExt;
use crate::tickets::activity;
use crate::users::{Role, User};
use crate::{Error, Result, Services, db};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`, validated on the way in.
    pub colour: String,
}

const ADMINS_ONLY: &str = "only admins define labels";

fn admin(by: &User) -> Result<()> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::NotAllowed(ADMINS_ONLY.into()))
    }
}

fn check(name: &str, colour: &str) -> Result<(String, String)> {
    protocol::label::validate(name, colour).map_err(Error::Invalid)
}

/// Every label, by name.
pub async fn list(db: &SqlitePool) -> Result<Vec<Label>> {
    Ok(sqlx::query_as!(
        Label,
        r#"select id as "id!", name, colour from labels order by name collate nocase"#
    )
    .fetch_all(db)
    .await?)
}

pub async fn get(db: &SqlitePool, id: i64) -> Result<Label> {
    sqlx::query_as!(
        Label,
        r#"select id as "id!", name, colour from labels where id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("label"))
}

pub async fn create(
    db: &SqlitePool,
    by: &User,
    actor: &Actor,
    name: &str,
    colour: &str,
) -> Result<Label> {
    admin(by)?;
    let (name, colour) = check(name, colour)?;
    let now = now_ms();
    let mut tx = db::begin_write(db).await?;
    let id = sqlx::query_scalar!(
        r#"insert into labels (name, colour, created_at) values (?, ?, ?) returning id as "id!""#,
        name,
        colour,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .on_unique(|| format!("a label named {name:?} already exists"))?;
    let detail = serde_json::json!({"label": id, "name": name, "colour": colour});
    audit_in(&mut tx, actor, "label.create", detail).await?;
    tx.commit().await?;
    Ok(Label { id, name, colour })
}

/// Renames or recolours a label (a `None` keeps what is there). Tickets that carry
/// it show the change on their next refetch; every list refetches on the event.
pub async fn update(
    services: &Services,
    by: &User,
    actor: &Actor,
    id: i64,
    name: Option<String>,
    colour: Option<String>,
) -> Result<Label> {
    admin(by)?;
    let old = get(&services.db, id).await?;
    let (name, colour) = check(
        name.as_deref().unwrap_or(&old.name),
        colour.as_deref().unwrap_or(&old.colour),
    )?;
    let mut effects = Effects::new();
    let mut tx = db::begin_write(&services.db).await?;
    sqlx::query!(
        "update labels set name = ?, colour = ? where id = ?",
        name,
        colour,
        id
    )
    .execute(&mut *tx)
    .await
    .on_unique(|| format!("a label named {name:?} already exists"))?;
    let detail = serde_json::json!({"label": id, "name": name, "colour": colour});
    audit_in(&mut tx, actor, "label.update", detail).await?;
    changed_tickets_in(&mut tx, &mut effects, id).await?;
    services.commit(tx, effects).await?;
    Ok(Label { id, name, colour })
}

/// Deletes a label and takes it off every ticket.
pub async fn delete(services: &Services, by: &User, actor: &Actor, id: i64) -> Result<()> {
    admin(by)?;
    let old = get(&services.db, id).await?;
    let mut effects = Effects::new();
    let mut tx = db::begin_write(&services.db).await?;
    changed_tickets_in(&mut tx, &mut effects, id).await?;
    let removed = sqlx::query!("delete from ticket_labels where label_id = ?", id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query!("delete from labels where id = ?", id)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"label": id, "name": old.name, "tickets": removed});
    audit_in(&mut tx, actor, "label.delete", detail).await?;
    services.commit(tx, effects).await?;
    Ok(())
}

/// An event for every ticket that carries the label.
async fn changed_tickets_in(
    conn: &mut sqlx::SqliteConnection,
    effects: &mut Effects,
    label: i64,
) -> Result<()> {
    let tickets = sqlx::query_scalar!(
        "select t.remote_id from ticket_labels tl join tickets t on t.id = tl.ticket_id
         where tl.label_id = ?",
        label
    )
    .fetch_all(&mut *conn)
    .await?;
    for ticket in tickets {
        effects.publish(Change::LabelsChanged { ticket });
    }
    Ok(())
}

/// Puts the label on the ticket (any account may); `false` if it was already there.
pub async fn add(services: &Services, by: &User, ticket: i64, label: i64) -> Result<bool> {
    set(services, by, ticket, label, true).await
}

/// Takes the label off the ticket; `false` if it was not there.
pub async fn remove(services: &Services, by: &User, ticket: i64, label: i64) -> Result<bool> {
    set(services, by, ticket, label, false).await
}

async fn set(services: &Services, by: &User, ticket: i64, label: i64, on: bool) -> Result<bool> {
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = db::begin_write(&services.db).await?;
    let remote_id = sqlx::query_scalar!("select remote_id from tickets where id = ?", ticket)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let name = sqlx::query_scalar!("select name from labels where id = ?", label)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("label"))?;
    let changed = if on {
        sqlx::query!(
            "insert into ticket_labels (ticket_id, label_id, added_by, added_at) values (?, ?, ?, ?)
             on conflict do nothing",
            ticket,
            label,
            by.id,
            now
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
    } else {
        sqlx::query!(
            "delete from ticket_labels where ticket_id = ? and label_id = ?",
            ticket,
            label
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
    };
    if changed > 0 {
        let action = if on {
            activity::Action::Labelled
        } else {
            activity::Action::Unlabelled
        };
        activity::record_detail_in(&mut tx, ticket, Some(by.id), action, None, Some(&name), now)
            .await?;
        effects.publish(Change::LabelsChanged { ticket: remote_id });
    }
    services.commit(tx, effects).await?;
    Ok(changed > 0)
}

/// The labels of each of the tickets, by name.
pub async fn of_tickets(db: &SqlitePool, tickets: &[i64]) -> Result<HashMap<i64, Vec<Label>>> {
    let ids = serde_json::to_string(tickets)
        .map_err(|e| Error::Internal(format!("cannot encode ids: {e}")))?;
    let rows = sqlx::query!(
        r#"select tl.ticket_id, l.id as "id!", l.name, l.colour
           from ticket_labels tl join labels l on l.id = tl.label_id
           where tl.ticket_id in (select value from json_each(?))
           order by l.name collate nocase"#,
        ids
    )
    .fetch_all(db)
    .await?;
    let mut out: HashMap<i64, Vec<Label>> = HashMap::new();
    for r in rows {
        out.entry(r.ticket_id).or_default().push(Label {
            id: r.id,
            name: r.name,
            colour: r.colour,
        });
    }
    Ok(out)
}
