//! Admin: routing. Teams (which agents serve which connections), each connection's
//! assignment mode and default capacity, and each agent's own capacity.

// The hours form is one server function with a field per input (its arguments are
// form fields, and the code `#[server]` generates cannot carry an attribute).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
pub use protocol::routing::{Assignment, WhenUnavailable};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    /// (id, name) of its agents.
    pub agents: Vec<(i64, String)>,
    /// (id, name) of the connections it serves.
    pub connections: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRouting {
    pub id: i64,
    pub name: String,
    pub assignment: Assignment,
    pub default_capacity: i64,
    /// Empty: always open.
    pub time_zone: String,
    /// Monday first, each as `09:00-12:00, 13:00-17:00` (empty: closed).
    pub days: Vec<String>,
    /// `YYYY-MM-DD`, comma-separated.
    pub holidays: String,
    pub when_unavailable: WhenUnavailable,
    pub unavailable_message: String,
    pub wait_limit_minutes: Option<i64>,
    /// Empty: off.
    pub queue_position_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCapacity {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// Their own limit; `None`: each connection's default.
    pub capacity: Option<i64>,
    pub open_tickets: i64,
}

/// Everything the routing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingData {
    pub teams: Vec<TeamView>,
    pub connections: Vec<ConnectionRouting>,
    pub agents: Vec<AgentCapacity>,
}

#[server(endpoint = "admin/routing")]
pub async fn routing() -> Result<RoutingData, AppError> {
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let teams = backend::routing::teams::list(&*services.store)
        .await?
        .into_iter()
        .map(|t| TeamView {
            id: t.id,
            name: t.name,
            agents: t.agents.into_iter().map(|a| (a.id, a.name)).collect(),
            connections: t.connections.into_iter().map(|c| (c.id, c.name)).collect(),
        })
        .collect();
    let mut connections = Vec::new();
    for c in backend::connections::list(&*services.store).await? {
        let r = backend::routing::get(&*services.store, c.id).await?;
        let hours = r.hours.unwrap_or_default();
        connections.push(ConnectionRouting {
            id: c.id,
            name: c.name,
            assignment: r.assignment,
            default_capacity: r.default_capacity,
            days: (0..7)
                .map(|d| protocol::routing::format_spans(hours.weekly.day(d)))
                .collect(),
            time_zone: hours.time_zone,
            holidays: hours.holidays.join(", "),
            when_unavailable: r.when_unavailable,
            unavailable_message: r.unavailable_message,
            wait_limit_minutes: r.wait_limit_minutes,
            queue_position_text: r.queue_position_text.unwrap_or_default(),
        });
    }
    let agents = backend::accounts::people::list(&services)
        .await?
        .into_iter()
        .map(|p| AgentCapacity {
            id: p.id,
            name: p.name,
            active: p.active,
            capacity: p.capacity,
            open_tickets: p.open_tickets,
        })
        .collect();
    Ok(RoutingData {
        teams,
        connections,
        agents,
    })
}

/// A number of tickets as typed.
#[cfg(feature = "ssr")]
fn number(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::Invalid(format!("{:?} is not a number of tickets", raw.trim())))
}

/// Ids sent as `1,2,3` (a form-encoded server function argument).
#[cfg(feature = "ssr")]
fn ids(raw: &str) -> Result<Vec<i64>, AppError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| AppError::Invalid(format!("{s:?} is not an id")))
        })
        .collect()
}

/// Creates a team (`id` absent) or replaces one's name, agents and connections.
/// `agents` and `connections` are comma-separated ids.
#[server(endpoint = "admin/routing/team")]
pub async fn save_team(
    #[server(default)] id: Option<i64>,
    name: String,
    #[server(default)] agents: String,
    #[server(default)] connections: String,
) -> Result<(), AppError> {
    use backend::routing::teams;
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let edit = teams::Edit {
        name,
        agents: ids(&agents)?,
        connections: ids(&connections)?,
    };
    match id {
        Some(id) => teams::update(&services, &me.user, &actor, id, edit).await?,
        None => teams::create(&services, &me.user, &actor, edit).await?,
    };
    Ok(())
}

#[server(endpoint = "admin/routing/team/delete")]
pub async fn delete_team(id: i64) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    backend::routing::teams::delete(&services, &me.user, &actor, id).await?;
    Ok(())
}

/// Sets a connection's assignment mode and default capacity.
#[server(endpoint = "admin/routing/connection")]
pub async fn set_connection_routing(
    id: i64,
    assignment: String,
    default_capacity: String,
) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let assignment: Assignment = assignment
        .parse()
        .map_err(|e: protocol::UnknownName| AppError::Invalid(e.to_string()))?;
    let default_capacity = number(&default_capacity)?;
    let edit = backend::routing::Edit {
        assignment: Some(assignment),
        default_capacity: Some(default_capacity),
        ..Default::default()
    };
    backend::routing::set(&services, &me.user, &actor, id, edit).await?;
    Ok(())
}

/// Sets a connection's business hours and what happens to a conversation nobody
/// can take. A blank time zone means always open; `days` are Monday first,
/// separated by `|`, each like `09:00-12:00, 13:00-17:00`; `holidays` are
/// `YYYY-MM-DD`, separated by commas or spaces.
#[server(endpoint = "admin/routing/hours")]
pub async fn set_hours(
    id: i64,
    #[server(default)] time_zone: String,
    #[server(default)] days: String,
    #[server(default)] holidays: String,
    when_unavailable: String,
    #[server(default)] message: String,
    #[server(default)] wait_limit: String,
    #[server(default)] queue_position_text: String,
) -> Result<(), AppError> {
    use protocol::routing::{Hours, WEEKDAYS, parse_spans};
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let hours = if time_zone.trim().is_empty() {
        None
    } else {
        let mut hours = Hours {
            time_zone: time_zone.trim().to_owned(),
            ..Hours::default()
        };
        let typed: Vec<&str> = days.split('|').collect();
        for (i, name) in WEEKDAYS.iter().enumerate() {
            *hours.weekly.day_mut(i) = parse_spans(typed.get(i).copied().unwrap_or_default())
                .map_err(|e| AppError::Invalid(format!("{name}: {e}")))?;
        }
        hours.holidays = holidays
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        Some(hours)
    };
    let action: WhenUnavailable = when_unavailable
        .parse()
        .map_err(|e: protocol::UnknownName| AppError::Invalid(e.to_string()))?;
    let wait_limit = match wait_limit.trim() {
        "" => None,
        n => Some(
            n.parse::<i64>()
                .map_err(|_| AppError::Invalid(format!("{n:?} is not a number of minutes")))?,
        ),
    };
    let edit = backend::routing::Edit {
        hours: Some(hours),
        when_unavailable: Some(action),
        unavailable_message: Some(message),
        wait_limit_minutes: Some(wait_limit),
        queue_position_text: Some(Some(queue_position_text)),
        ..Default::default()
    };
    backend::routing::set(&services, &me.user, &actor, id, edit).await?;
    Ok(())
}

/// Sets an agent's own capacity; blank means each connection's default.
#[server(endpoint = "admin/routing/capacity")]
pub async fn set_capacity(id: i64, #[server(default)] capacity: String) -> Result<(), AppError> {
    let (me, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let capacity = match capacity.trim() {
        "" => None,
        n => Some(number(n)?),
    };
    backend::routing::set_capacity(&services, &me.user, &actor, id, capacity).await?;
    Ok(())
}
