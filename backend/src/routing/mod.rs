//! Routing: which agents serve which connections (`teams`), who may see a ticket,
//! each connection's settings (`settings`: assignment, capacity, business hours,
//! what happens when nobody can take a conversation), each agent's capacity, and
//! the router that applies them (`auto`).
//!
//! Who serves a connection, and whose inbox shows it, are two SQL views
//! (`connection_agents`, `visible_connections`; see the teams migration), so every
//! query that lists or finds tickets filters with the same rule.

pub mod auto;
pub mod hours;
pub mod settings;
pub mod teams;

pub use settings::{Edit, Routing, get, set};

use protocol::routing::check_capacity;

use crate::audit::{self, Actor};
use crate::effects::{Effects, Worker};
use crate::users::{Role, User};
use crate::{Error, Result, Services};

/// The accounts whose inbox shows `connection`'s tickets, when that is not
/// everyone (the connection has teams): who a new ticket's alert goes to.
pub async fn audience(tx: &mut dyn store::Tx, connection: i64) -> Result<Option<Vec<i64>>> {
    if !tx.connection_has_teams(connection).await? {
        return Ok(None);
    }
    Ok(Some(tx.connection_audience(connection).await?))
}

/// Whether `user`'s inbox shows the connection's tickets.
pub async fn sees(tx: &mut dyn store::Tx, user: i64, connection: i64) -> Result<bool> {
    Ok(tx.user_sees(user, connection).await?)
}

fn admin(by: &User, what: &str) -> Result<()> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::NotAllowed(format!("only admins change {what}")))
    }
}

/// Sets an agent's own capacity (`None`: each connection's default).
pub async fn set_capacity(
    services: &Services,
    by: &User,
    actor: &Actor,
    agent: i64,
    capacity: Option<i64>,
) -> Result<()> {
    admin(by, "capacities")?;
    if let Some(c) = capacity {
        check_capacity(c).map_err(Error::Invalid)?;
    }
    let mut tx = services.store.write().await?;
    let public_id = tx
        .user_set_capacity(agent, capacity)
        .await?
        .ok_or(Error::NotFound("agent"))?;
    let detail = serde_json::json!({"agent": public_id, "capacity": capacity});
    audit::record(&mut *tx, actor, "user.capacity", detail).await?;
    let mut effects = Effects::new();
    effects.wake(Worker::Router);
    services.commit_session(tx, effects).await
}

/// An agent's own capacity (`None`: each connection's default).
pub async fn capacity(store: &dyn store::Store, agent: i64) -> Result<Option<i64>> {
    store
        .autocommit()
        .await?
        .user_capacity(agent)
        .await?
        .ok_or(Error::NotFound("agent"))
}
