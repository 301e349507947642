//! Labels: admins define them (a name and a colour, audited); any agent puts them on
//! tickets and takes them off, live for everyone. The inbox filters by them.

use std::collections::HashMap;

use protocol::realtime::Change;
use store::Store;

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::effects::{Effects, Holders};
use crate::error::ResultExt;
use crate::tickets::activity;
use crate::users::{Role, User};
use crate::{Error, Result, Services};

pub use store::labels::Label;

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

fn taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a label named {name:?} already exists")
}

/// Every label, by name.
pub async fn list(store: &dyn Store) -> Result<Vec<Label>> {
    Ok(store.autocommit().await?.labels_all().await?)
}

pub async fn get(store: &dyn Store, id: i64) -> Result<Label> {
    store
        .autocommit()
        .await?
        .label_get(id)
        .await?
        .ok_or(Error::NotFound("label"))
}

pub async fn create(
    store: &dyn Store,
    by: &User,
    actor: &Actor,
    name: &str,
    colour: &str,
) -> Result<Label> {
    admin(by)?;
    let (name, colour) = check(name, colour)?;
    let mut tx = store.write().await?;
    let id = tx
        .label_insert(&name, &colour, now_ms())
        .await
        .on_unique(taken(&name))?;
    let detail = serde_json::json!({"label": id, "name": name, "colour": colour});
    audit::record(&mut *tx, actor, "label.create", detail).await?;
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
    let old = get(&*services.store, id).await?;
    let (name, colour) = check(
        name.as_deref().unwrap_or(&old.name),
        colour.as_deref().unwrap_or(&old.colour),
    )?;
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    tx.label_update(id, &name, &colour)
        .await
        .on_unique(taken(&name))?;
    let detail = serde_json::json!({"label": id, "name": name, "colour": colour});
    audit::record(&mut *tx, actor, "label.update", detail).await?;
    changed_tickets(&mut *tx, &mut effects, id).await?;
    services.commit_session(tx, effects).await?;
    Ok(Label { id, name, colour })
}

/// Deletes a label and takes it off every ticket.
pub async fn delete(services: &Services, by: &User, actor: &Actor, id: i64) -> Result<()> {
    admin(by)?;
    let old = get(&*services.store, id).await?;
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    changed_tickets(&mut *tx, &mut effects, id).await?;
    let removed = tx.label_take_off_all(id).await?;
    tx.label_delete(id).await?;
    let detail = serde_json::json!({"label": id, "name": old.name, "tickets": removed});
    audit::record(&mut *tx, actor, "label.delete", detail).await?;
    services.commit_session(tx, effects).await?;
    Ok(())
}

/// An event for every ticket that carries the label.
async fn changed_tickets(tx: &mut dyn store::Tx, effects: &mut Effects, label: i64) -> Result<()> {
    for ticket in tx.label_tickets(label).await? {
        let change = Change::LabelsChanged {
            ticket: ticket.remote_id,
        };
        effects
            .publish_ticket(tx, ticket.connection_id, Holders::Of(ticket.id), change)
            .await?;
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
    let mut tx = services.store.write().await?;
    let remote_id = tx
        .ticket_remote_id(ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let name = tx
        .label_get(label)
        .await?
        .ok_or(Error::NotFound("label"))?
        .name;
    let changed = if on {
        tx.ticket_label_add(ticket, label, by.id, now).await?
    } else {
        tx.ticket_label_remove(ticket, label).await?
    };
    if changed {
        let action = if on {
            activity::Action::Labelled
        } else {
            activity::Action::Unlabelled
        };
        activity::record(
            &mut *tx,
            ticket,
            Some(by.id),
            action,
            None,
            Some(&name),
            now,
        )
        .await?;
        let change = Change::LabelsChanged { ticket: remote_id };
        effects.publish_ticket_row(&mut *tx, ticket, change).await?;
    }
    services.commit_session(tx, effects).await?;
    Ok(changed)
}

/// The labels of each of the tickets, by name.
pub async fn of_tickets(store: &dyn Store, tickets: &[i64]) -> Result<HashMap<i64, Vec<Label>>> {
    of_tickets_in(&mut *store.autocommit().await?, tickets).await
}

/// [`of_tickets`], inside a caller's transaction.
pub async fn of_tickets_in(
    tx: &mut dyn store::Tx,
    tickets: &[i64],
) -> Result<HashMap<i64, Vec<Label>>> {
    let mut out: HashMap<i64, Vec<Label>> = HashMap::new();
    for (ticket, label) in tx.labels_of_tickets(tickets).await? {
        out.entry(ticket).or_default().push(label);
    }
    Ok(out)
}
