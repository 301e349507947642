//! Routing over REST (admins): teams, each agent's capacity, and each connection's
//! assignment settings. Agents are named by their public id (`agt_…`), connections
//! by their number, as elsewhere in the API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use backend::auth::ClientAddr;
use backend::routing::teams;
use protocol::routing::{Assignment, Hours, WhenUnavailable};
use serde::{Deserialize, Deserializer, Serialize};

use crate::http::auth::ApiAdmin;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiJson;

/// A team: its agents, and the connections (bots) it serves.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// Its agents' ids (`agt_…`).
    pub agent_ids: Vec<String>,
    /// The ids of the connections it serves.
    pub connection_ids: Vec<i64>,
}

impl From<teams::Team> for Team {
    fn from(t: teams::Team) -> Self {
        Team {
            id: t.id,
            name: t.name,
            agent_ids: t.agents.into_iter().map(|a| a.public_id).collect(),
            connection_ids: t.connections.into_iter().map(|c| c.id).collect(),
        }
    }
}

/// A new team, or (with `PATCH`) the parts to change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    /// 1 to 60 characters, unique in any case.
    pub name: Option<String>,
    /// Its agents' ids (`agt_…`): the whole list.
    pub agent_ids: Option<Vec<String>>,
    /// The connections it serves: the whole list.
    pub connection_ids: Option<Vec<i64>>,
}

/// A path's numeric id; anything else names nothing.
fn number(raw: &str) -> Result<i64, HttpError> {
    raw.parse().map_err(|_| HttpError::NotFound)
}

/// The team's accounts by their row ids; an id that names nobody is a 400.
async fn agents(services: &backend::Services, ids: &[String]) -> Result<Vec<i64>, HttpError> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        match backend::users::find_by_public_id(&*services.store, id).await {
            Ok(user) => found.push(user.id),
            Err(backend::Error::NotFound(_)) => {
                return Err(HttpError::BadRequest(format!("no agent has the id {id:?}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(found)
}

/// Every team, by name.
#[utoipa::path(
    get, path = "/api/v1/teams", tag = "rest",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Teams", body = [Team]),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
pub async fn list(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
) -> Result<Json<Vec<Team>>, HttpError> {
    let all = teams::list(&*services.store).await?;
    Ok(Json(all.into_iter().map(Team::from).collect()))
}

/// Makes a team (audited). A connection that a team serves shows only to the team's
/// agents (and admins).
#[utoipa::path(
    post, path = "/api/v1/teams", tag = "rest",
    security(("bearer" = [])),
    request_body = TeamBody,
    responses(
        (status = 201, description = "Created", body = Team),
        (status = 400, description = "No name, or an id that names nothing", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 409, description = "A team with that name exists", body = ErrorBody),
    )
)]
pub async fn create(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<Team>), HttpError> {
    let edit = teams::Edit {
        name: body.name.unwrap_or_default(),
        agents: agents(&services, &body.agent_ids.unwrap_or_default()).await?,
        connections: body.connection_ids.unwrap_or_default(),
    };
    let actor = super::actor(&user, addr);
    let team = teams::create(&services, &user, &actor, edit).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// Renames a team or replaces its agents or connections (what is left out stays).
#[utoipa::path(
    patch, path = "/api/v1/teams/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The team's id")),
    request_body = TeamBody,
    responses(
        (status = 200, description = "The team now", body = Team),
        (status = 400, description = "A bad name, or an id that names nothing", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such team"),
        (status = 409, description = "A team with that name exists", body = ErrorBody),
    )
)]
pub async fn update(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<Json<Team>, HttpError> {
    let id = number(&id)?;
    let old = teams::get(&*services.store, id).await?;
    let edit = teams::Edit {
        name: body.name.unwrap_or(old.name),
        agents: match body.agent_ids {
            Some(ids) => agents(&services, &ids).await?,
            None => old.agents.iter().map(|a| a.id).collect(),
        },
        connections: body
            .connection_ids
            .unwrap_or_else(|| old.connections.iter().map(|c| c.id).collect()),
    };
    let actor = super::actor(&user, addr);
    let team = teams::update(&services, &user, &actor, id, edit).await?;
    Ok(Json(team.into()))
}

/// Deletes a team. Connections it alone served are served by everyone again.
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The team's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such team"),
    )
)]
pub async fn delete(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = number(&id)?;
    let actor = super::actor(&user, addr);
    teams::delete(&services, &user, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `null` and absent differ: `{"capacity": null}` resets it, `{}` changes nothing.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What to change about an agent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    /// The most open tickets automatic assignment gives them (1 to 100), or `null`
    /// for each connection's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Option<i64>>,
}

/// An agent's routing settings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentRouting {
    /// `agt_…`.
    pub id: String,
    /// Their own capacity, or `null` for each connection's default.
    pub capacity: Option<i64>,
}

/// Sets an agent's capacity (audited).
#[utoipa::path(
    patch, path = "/api/v1/agents/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The agent's id (`agt_…`)")),
    request_body = AgentBody,
    responses(
        (status = 200, description = "The agent's routing settings now", body = AgentRouting),
        (status = 400, description = "A capacity out of range, or nothing to change", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such agent"),
    )
)]
pub async fn update_agent(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<Json<AgentRouting>, HttpError> {
    let agent = backend::users::find_by_public_id(&*services.store, &id).await?;
    let Some(capacity) = body.capacity else {
        return Err(HttpError::BadRequest(
            "nothing to change: send {\"capacity\": n} or {\"capacity\": null}".into(),
        ));
    };
    let actor = super::actor(&user, addr);
    backend::routing::set_capacity(&services, &user, &actor, agent.id, capacity).await?;
    Ok(Json(AgentRouting {
        id: agent.public_id,
        capacity: backend::routing::capacity(&*services.store, agent.id).await?,
    }))
}

/// What happens to a conversation nobody can take: one that arrives outside
/// business hours or while nobody who serves the connection is available, or that
/// waits longer than the limit.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhenUnavailableBody {
    /// `queue`: it waits. `hand_back`: the customer is sent `message` (if any) and
    /// the conversation goes back to the bot.
    pub action: WhenUnavailable,
    /// Up to 1,000 characters; empty sends nothing.
    #[serde(default)]
    pub message: String,
    /// 1 to 1,440 minutes, or `null` for no limit.
    #[serde(default)]
    pub wait_limit_minutes: Option<i64>,
}

/// How a connection's tickets find agents.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Routing {
    /// `manual`: tickets wait until someone takes them. `automatic`: they go to an
    /// available agent who serves the connection and has room.
    pub assignment: Assignment,
    /// Open tickets an agent holds at most, unless their own capacity differs.
    pub default_capacity: i64,
    /// Business hours, or `null` for always open.
    pub hours: Option<Hours>,
    pub when_unavailable: WhenUnavailableBody,
    /// Told to waiting customers when they arrive and when their place changes,
    /// `{position}` filled in; `null`: off.
    pub queue_position_text: Option<String>,
}

impl From<backend::routing::Routing> for Routing {
    fn from(r: backend::routing::Routing) -> Self {
        Routing {
            assignment: r.assignment,
            default_capacity: r.default_capacity,
            hours: r.hours,
            when_unavailable: WhenUnavailableBody {
                action: r.when_unavailable,
                message: r.unavailable_message,
                wait_limit_minutes: r.wait_limit_minutes,
            },
            queue_position_text: r.queue_position_text,
        }
    }
}

/// What to change about a connection's routing; what is left out stays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingBody {
    pub assignment: Option<Assignment>,
    /// 1 to 100.
    pub default_capacity: Option<i64>,
    /// `null` for always open.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Hours>)]
    pub hours: Option<Option<Hours>>,
    /// Replaces all three of its fields.
    pub when_unavailable: Option<WhenUnavailableBody>,
    /// Must contain `{position}`; `null` or empty turns it off.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub queue_position_text: Option<Option<String>>,
}

/// A connection's routing.
#[utoipa::path(
    get, path = "/api/v1/connections/{id}/routing", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "Its routing", body = Routing),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such connection"),
    )
)]
pub async fn routing(
    ApiAdmin(_): ApiAdmin,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<Json<Routing>, HttpError> {
    let id = number(&id)?;
    Ok(Json(
        backend::routing::get(&*services.store, id).await?.into(),
    ))
}

/// Changes a connection's routing (audited). Switching to automatic assigns what
/// waits at once, if agents are available.
///
/// `hours` is `{"time_zone": "Europe/Paris", "weekly": {"mon": [{"from": "09:00",
/// "to": "17:00"}], …}, "holidays": ["2026-12-25"]}`; a day left out is closed.
#[utoipa::path(
    patch, path = "/api/v1/connections/{id}/routing", tag = "rest",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The connection's id")),
    request_body = RoutingBody,
    responses(
        (status = 200, description = "Its routing now", body = Routing),
        (status = 400, description = "An unknown mode, a capacity or limit out of range, bad hours or an unknown time zone, a text too long", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such connection"),
    )
)]
pub async fn set_routing(
    ApiAdmin(user): ApiAdmin,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoutingBody>,
) -> Result<Json<Routing>, HttpError> {
    let id = number(&id)?;
    let actor = super::actor(&user, addr);
    let (when_unavailable, unavailable_message, wait_limit_minutes) = match body.when_unavailable {
        Some(w) => (Some(w.action), Some(w.message), Some(w.wait_limit_minutes)),
        None => (None, None, None),
    };
    let edit = backend::routing::Edit {
        assignment: body.assignment,
        default_capacity: body.default_capacity,
        hours: body.hours,
        when_unavailable,
        unavailable_message,
        wait_limit_minutes,
        queue_position_text: body.queue_position_text,
    };
    let routing = backend::routing::set(&services, &user, &actor, id, edit).await?;
    Ok(Json(routing.into()))
}
