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
use sqlx::{SqliteConnection, SqlitePool};

use crate::audit::{self, Actor};
use crate::effects::{Effects, Worker};
use crate::users::{Role, User};
use crate::{Error, Result, Services, db};

/// The accounts whose inbox shows `connection`'s tickets, when that is not
/// everyone (the connection has teams): who a new ticket's alert goes to.
pub async fn audience_in(conn: &mut SqliteConnection, connection: i64) -> Result<Option<Vec<i64>>> {
    let teams = sqlx::query_scalar!(
        "select count(*) from team_connections where connection_id = ?",
        connection
    )
    .fetch_one(&mut *conn)
    .await?;
    if teams == 0 {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_scalar!(
            r#"select user_id as "user_id!: i64" from visible_connections where connection_id = ?"#,
            connection
        )
        .fetch_all(&mut *conn)
        .await?,
    ))
}

/// Whether `user`'s inbox shows the connection's tickets.
pub async fn sees(conn: &mut SqliteConnection, user: i64, connection: i64) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        "select 1 from visible_connections where user_id = ? and connection_id = ?",
        user,
        connection
    )
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
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
    let mut tx = db::begin_write(&services.db).await?;
    let public_id = sqlx::query_scalar!(
        "update users set capacity = ? where id = ? returning public_id",
        capacity,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("agent"))?;
    let detail = serde_json::json!({"agent": public_id, "capacity": capacity});
    audit::record(
        &mut store_sqlite::on(&mut tx),
        actor,
        "user.capacity",
        detail,
    )
    .await?;
    let mut effects = Effects::new();
    effects.wake(Worker::Router);
    services.commit(tx, effects).await
}

/// An agent's own capacity (`None`: each connection's default).
pub async fn capacity(db: &SqlitePool, agent: i64) -> Result<Option<i64>> {
    sqlx::query_scalar!("select capacity from users where id = ?", agent)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound("agent"))
}
