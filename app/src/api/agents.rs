//! Admin: managing the people who use Baton.

use leptos::prelude::*;
pub use protocol::account::Role;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A row of the agent list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Invited, and has not chosen a password yet.
    pub invited: bool,
    /// `online`, `away` or `offline`.
    pub presence: String,
    pub last_seen_at: Option<i64>,
    pub open_tickets: i64,
}

#[cfg(feature = "ssr")]
impl From<backend::accounts::people::Person> for AgentRow {
    fn from(p: backend::accounts::people::Person) -> Self {
        AgentRow {
            id: p.id,
            email: p.email,
            name: p.name,
            role: p.role,
            active: p.active,
            invited: !p.has_password,
            presence: p.presence.as_str().to_owned(),
            last_seen_at: p.last_seen_at,
            open_tickets: p.open_tickets,
        }
    }
}

#[server(endpoint = "admin/agents")]
pub async fn list_agents() -> Result<Vec<AgentRow>, AppError> {
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let people = backend::accounts::people::list(&services).await?;
    Ok(people.into_iter().map(AgentRow::from).collect())
}

/// What creating an agent produced: the invitation link when one was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAgent {
    pub id: i64,
    pub email: String,
    pub link: Option<String>,
}

/// Creates an account. `access` is `password` (the admin sets the first password)
/// or `invite` (Baton makes a one-time link for the person to choose one).
#[server(endpoint = "admin/agents/create")]
pub async fn create_agent(
    email: String,
    name: String,
    role: String,
    access: String,
    #[server(default)] password: String,
) -> Result<CreatedAgent, AppError> {
    use backend::accounts::{self, links};
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let role = backend::users::parse_role(&role)?;
    let password = match access.as_str() {
        "password" => Some(password),
        "invite" => None,
        _ => {
            return Err(AppError::Invalid(
                "choose a password or an invitation".into(),
            ));
        }
    };
    let invite = password.is_none();
    let user = accounts::create_user(&*services.store, &email, &name, role, password).await?;
    let link = if invite {
        let token = links::issue(&*services.store, user.id).await?;
        Some(services.link(&links::path(&token)))
    } else {
        None
    };
    super::ssr::audit(
        &actor,
        "user.create",
        serde_json::json!({"user": user.id, "email": user.email, "role": user.role, "invited": link.is_some()}),
    )
    .await?;
    Ok(CreatedAgent {
        id: user.id,
        email: user.email,
        link,
    })
}

/// Renames an agent and sets their role.
#[server(endpoint = "admin/agents/update")]
pub async fn update_agent(id: i64, name: String, role: String) -> Result<(), AppError> {
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let role = backend::users::parse_role(&role)?;
    backend::accounts::people::update(&*services.store, id, &name, role).await?;
    super::ssr::audit(
        &actor,
        "user.update",
        serde_json::json!({"user": id, "name": name.trim(), "role": role.as_str()}),
    )
    .await
}

/// Deactivates an agent: they are signed out everywhere at once and their open
/// tickets go back to the queue. Returns how many tickets went back.
#[server(endpoint = "admin/agents/deactivate")]
pub async fn deactivate_agent(id: i64) -> Result<u64, AppError> {
    let (me, actor) = super::ssr::admin().await?;
    if me.user.id == id {
        return Err(AppError::Conflict(
            "you cannot deactivate your own account; ask another admin".into(),
        ));
    }
    let services = super::ssr::services()?;
    let requeued = backend::accounts::deactivate(&services, id).await?;
    super::ssr::audit(
        &actor,
        "user.deactivate",
        serde_json::json!({"user": id, "requeued": requeued}),
    )
    .await?;
    Ok(requeued)
}

#[server(endpoint = "admin/agents/reactivate")]
pub async fn reactivate_agent(id: i64) -> Result<(), AppError> {
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    backend::accounts::reactivate(&*services.store, id).await?;
    super::ssr::audit(&actor, "user.reactivate", serde_json::json!({"user": id})).await
}

/// A one-time link that lets the agent set a new password (an invitation again if
/// they never chose one). Earlier links stop working.
#[server(endpoint = "admin/agents/reset-link")]
pub async fn agent_reset_link(id: i64) -> Result<String, AppError> {
    use backend::accounts::links;
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let token = links::issue(&*services.store, id).await?;
    super::ssr::audit(&actor, "user.reset_link", serde_json::json!({"user": id})).await?;
    Ok(services.link(&links::path(&token)))
}
