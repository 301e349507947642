//! Teams: admins put agents in them and say which connections (bots) each serves.
//! A connection no team serves is served by everyone; one that teams serve shows
//! only to their members (and to admins), and automatic assignment picks only
//! from them (`routing::auto`). Every change is audited.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use store::{Store, Tx};

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::effects::{Effects, Worker};
use crate::error::ResultExt;
use crate::users::{Role, User};
use crate::{Error, Result, Services};

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
pub async fn list(store: &dyn Store) -> Result<Vec<Team>> {
    let mut tx = store.read().await?;
    // The engine's order: by name in any letter case.
    let mut order = Vec::new();
    let mut teams: BTreeMap<i64, Team> = BTreeMap::new();
    for (id, name) in tx.teams_all().await? {
        order.push(id);
        teams.insert(
            id,
            Team {
                id,
                name,
                agents: Vec::new(),
                connections: Vec::new(),
            },
        );
    }
    for m in tx.team_members_all().await? {
        if let Some(team) = teams.get_mut(&m.team_id) {
            team.agents.push(Member {
                id: m.id,
                public_id: m.public_id,
                name: m.name,
            });
        }
    }
    for s in tx.team_connections_all().await? {
        if let Some(team) = teams.get_mut(&s.team_id) {
            team.connections.push(Served {
                id: s.id,
                name: s.name,
            });
        }
    }
    Ok(order.iter().filter_map(|id| teams.remove(id)).collect())
}

pub async fn get(store: &dyn Store, id: i64) -> Result<Team> {
    list(store)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(Error::NotFound("team"))
}

pub async fn create(services: &Services, by: &User, actor: &Actor, edit: Edit) -> Result<Team> {
    admin(by)?;
    let name = protocol::routing::check_team_name(&edit.name).map_err(Error::Invalid)?;
    let now = now_ms();
    let mut tx = services.store.write().await?;
    let id = tx
        .team_insert(&name, now)
        .await
        .on_unique(|| format!("a team named {name:?} already exists"))?;
    set_members(&mut *tx, id, &edit).await?;
    let detail = serde_json::json!({
        "team": id, "name": name, "agents": edit.agents, "connections": edit.connections
    });
    audit::record(&mut *tx, actor, "team.create", detail).await?;
    services.commit_session(tx, changed()).await?;
    get(&*services.store, id).await
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
    let mut tx = services.store.write().await?;
    let found = tx
        .team_rename(id, &name)
        .await
        .on_unique(|| format!("a team named {name:?} already exists"))?;
    if !found {
        return Err(Error::NotFound("team"));
    }
    set_members(&mut *tx, id, &edit).await?;
    let detail = serde_json::json!({
        "team": id, "name": name, "agents": edit.agents, "connections": edit.connections
    });
    audit::record(&mut *tx, actor, "team.update", detail).await?;
    services.commit_session(tx, changed()).await?;
    get(&*services.store, id).await
}

/// Deletes a team. Its connections are served by their other teams, or by everyone
/// if it was their only one.
pub async fn delete(services: &Services, by: &User, actor: &Actor, id: i64) -> Result<()> {
    admin(by)?;
    let old = get(&*services.store, id).await?;
    let mut tx = services.store.write().await?;
    tx.team_delete(id).await?;
    let detail = serde_json::json!({"team": id, "name": old.name});
    audit::record(&mut *tx, actor, "team.delete", detail).await?;
    services.commit_session(tx, changed()).await
}

/// Who serves what changed: tickets may now have someone to go to.
fn changed() -> Effects {
    let mut effects = Effects::new();
    effects.wake(Worker::Router);
    effects
}

/// Replaces a team's agents and connections, refusing ids that name nothing (so a
/// typo is a clear 400, not a silently smaller team).
async fn set_members(tx: &mut dyn Tx, team: i64, edit: &Edit) -> Result<()> {
    tx.team_clear(team).await?;
    // Once each: a second add of the same id would read as unknown.
    for agent in edit.agents.iter().collect::<BTreeSet<_>>() {
        if !tx.team_member_add(team, *agent).await? {
            return Err(Error::invalid(format!("no agent has the id {agent}")));
        }
    }
    for connection in edit.connections.iter().collect::<BTreeSet<_>>() {
        if !tx.team_connection_add(team, *connection).await? {
            return Err(Error::invalid(format!(
                "no connection has the id {connection}"
            )));
        }
    }
    Ok(())
}
