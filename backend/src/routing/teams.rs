//! Teams: admins put agents in them and say which connections (bots) each serves.
//! A connection no team serves is served by everyone; one that teams serve shows
//! only to their members (and to admins), and automatic assignment picks only
//! from them (`routing::auto`). Every change is audited.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::audit::{Actor, audit_in};
use crate::clock::now_ms;
use crate::effects::{Effects, Worker};
use crate::error::ResultExt;
use crate::users::{Role, User};
use crate::{Error, Result, Services, db};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// Its agents, by name.
    pub agents: Vec<Member>,
    /// The connections it serves, by name.
    pub connections: Vec<Served>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: i64,
    /// The id programs and Botpress know the agent by (`agt_…`).
    pub public_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub id: i64,
    pub name: String,
}

/// A team as an admin saves it: the whole membership, not a change to it, so two
/// admins editing at once leave one of their versions rather than a mix.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub name: String,
    pub agents: Vec<i64>,
    pub connections: Vec<i64>,
}

fn admin(by: &User) -> Result<()> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::NotAllowed("only admins manage teams".into()))
    }
}

/// Every team, by name, with its agents and connections.
pub async fn list(db: &SqlitePool) -> Result<Vec<Team>> {
    let mut teams: BTreeMap<i64, Team> =
        sqlx::query!(r#"select id as "id!", name from teams order by name collate nocase"#)
            .fetch_all(db)
            .await?
            .into_iter()
            .map(|t| {
                let team = Team {
                    id: t.id,
                    name: t.name,
                    agents: Vec::new(),
                    connections: Vec::new(),
                };
                (t.id, team)
            })
            .collect();
    let members = sqlx::query!(
        r#"select tm.team_id, u.id as "id!", u.public_id, u.name
           from team_members tm join users u on u.id = tm.user_id
           order by u.name collate nocase"#
    )
    .fetch_all(db)
    .await?;
    for m in members {
        if let Some(team) = teams.get_mut(&m.team_id) {
            team.agents.push(Member {
                id: m.id,
                public_id: m.public_id,
                name: m.name,
            });
        }
    }
    let served = sqlx::query!(
        r#"select tc.team_id, c.id as "id!", c.name
           from team_connections tc join connections c on c.id = tc.connection_id
           order by c.name collate nocase"#
    )
    .fetch_all(db)
    .await?;
    for s in served {
        if let Some(team) = teams.get_mut(&s.team_id) {
            team.connections.push(Served {
                id: s.id,
                name: s.name,
            });
        }
    }
    let mut teams: Vec<Team> = teams.into_values().collect();
    teams.sort_by_key(|t| t.name.to_lowercase());
    Ok(teams)
}

pub async fn get(db: &SqlitePool, id: i64) -> Result<Team> {
    list(db)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(Error::NotFound("team"))
}

pub async fn create(services: &Services, by: &User, actor: &Actor, edit: Edit) -> Result<Team> {
    admin(by)?;
    let name = protocol::routing::check_team_name(&edit.name).map_err(Error::Invalid)?;
    let now = now_ms();
    let mut tx = db::begin_write(&services.db).await?;
    let id = sqlx::query_scalar!(
        r#"insert into teams (name, created_at) values (?, ?) returning id as "id!""#,
        name,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .on_unique(|| format!("a team named {name:?} already exists"))?;
    set_members_in(&mut tx, id, &edit).await?;
    let detail = serde_json::json!({
        "team": id, "name": name, "agents": edit.agents, "connections": edit.connections
    });
    audit_in(&mut tx, actor, "team.create", detail).await?;
    services.commit(tx, changed()).await?;
    get(&services.db, id).await
}

pub async fn update(
    services: &Services,
    by: &User,
    actor: &Actor,
    id: i64,
    edit: Edit,
) -> Result<Team> {
    admin(by)?;
    let name = protocol::routing::check_team_name(&edit.name).map_err(Error::Invalid)?;
    let mut tx = db::begin_write(&services.db).await?;
    let found = sqlx::query!("update teams set name = ? where id = ?", name, id)
        .execute(&mut *tx)
        .await
        .on_unique(|| format!("a team named {name:?} already exists"))?
        .rows_affected();
    if found == 0 {
        return Err(Error::NotFound("team"));
    }
    set_members_in(&mut tx, id, &edit).await?;
    let detail = serde_json::json!({
        "team": id, "name": name, "agents": edit.agents, "connections": edit.connections
    });
    audit_in(&mut tx, actor, "team.update", detail).await?;
    services.commit(tx, changed()).await?;
    get(&services.db, id).await
}

/// Deletes a team. Its connections are served by their other teams, or by everyone
/// if it was their only one.
pub async fn delete(services: &Services, by: &User, actor: &Actor, id: i64) -> Result<()> {
    admin(by)?;
    let old = get(&services.db, id).await?;
    let mut tx = db::begin_write(&services.db).await?;
    sqlx::query!("delete from teams where id = ?", id)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"team": id, "name": old.name});
    audit_in(&mut tx, actor, "team.delete", detail).await?;
    services.commit(tx, changed()).await
}

/// Who serves what changed: tickets may now have someone to go to.
fn changed() -> Effects {
    let mut effects = Effects::new();
    effects.wake(Worker::Router);
    effects
}

/// Replaces a team's agents and connections, refusing ids that name nothing (so a
/// typo is a clear 400, not a silently smaller team).
async fn set_members_in(conn: &mut SqliteConnection, team: i64, edit: &Edit) -> Result<()> {
    sqlx::query!("delete from team_members where team_id = ?", team)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("delete from team_connections where team_id = ?", team)
        .execute(&mut *conn)
        .await?;
    for &agent in &edit.agents {
        let known = sqlx::query_scalar!("select 1 from users where id = ?", agent)
            .fetch_optional(&mut *conn)
            .await?;
        if known.is_none() {
            return Err(Error::invalid(format!("no agent has the id {agent}")));
        }
        sqlx::query!(
            "insert or ignore into team_members (team_id, user_id) values (?, ?)",
            team,
            agent
        )
        .execute(&mut *conn)
        .await?;
    }
    for &connection in &edit.connections {
        let known = sqlx::query_scalar!("select 1 from connections where id = ?", connection)
            .fetch_optional(&mut *conn)
            .await?;
        if known.is_none() {
            return Err(Error::invalid(format!(
                "no connection has the id {connection}"
            )));
        }
        sqlx::query!(
            "insert or ignore into team_connections (team_id, connection_id) values (?, ?)",
            team,
            connection
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
