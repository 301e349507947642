//! Admin: Botpress connections. Secrets (webhook URL, access token) go in, never
//! out: nothing here returns them.

use leptos::prelude::*;
use protocol::integration::Integration;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A connection with its health, as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub id: i64,
    pub name: String,
    pub botpress_bot_id: Option<String>,
    pub has_api_token: bool,
    pub end_notice_text: String,
    pub created_at: i64,
    pub last_inbound_at: Option<i64>,
    pub last_outbound_ok_at: Option<i64>,
    pub last_outbound_error_at: Option<i64>,
    pub last_outbound_error: Option<String>,
    pub unmapped_closes: Vec<UnmappedClose>,
    pub integration: Integration,
    /// Baton's integration: the webhook URL its registration brought (not a secret:
    /// only signed calls are acted on).
    pub registered_webhook_url: Option<String>,
    pub registered_at: Option<i64>,
    pub unregistered_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedClose {
    pub botpress_conversation_id: String,
    pub received_at: i64,
    pub state: String,
    pub last_error: Option<String>,
}

#[server(endpoint = "admin/connections")]
pub async fn list_connections() -> Result<Vec<ConnectionRow>, AppError> {
    use backend::connections;
    super::ssr::admin().await?;
    let store = super::ssr::services()?.store;
    let mut rows = Vec::new();
    for c in connections::list(&*store).await? {
        let unmapped_closes = connections::unmapped_closes(&*store, c.id)
            .await?
            .into_iter()
            .map(|u| UnmappedClose {
                botpress_conversation_id: u.botpress_conversation_id,
                received_at: u.received_at,
                state: u.state,
                last_error: u.last_error,
            })
            .collect();
        rows.push(ConnectionRow {
            id: c.id,
            name: c.name,
            botpress_bot_id: c.botpress_bot_id,
            has_api_token: c.has_api_token,
            end_notice_text: c.end_notice_text,
            created_at: c.created_at,
            last_inbound_at: c.last_inbound_at,
            last_outbound_ok_at: c.last_outbound_ok_at,
            last_outbound_error_at: c.last_outbound_error_at,
            last_outbound_error: c.last_outbound_error,
            unmapped_closes,
            integration: c.integration,
            registered_webhook_url: c.registered_webhook_url,
            registered_at: c.registered_at,
            unregistered_at: c.unregistered_at,
        });
    }
    Ok(rows)
}

/// The endpoint URL to paste into Botpress, for a connection just created or
/// re-keyed, or looked up again by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub connection_id: i64,
    pub name: String,
    pub url: String,
    /// Which integration to paste it into (the setup steps differ).
    pub integration: Integration,
}

/// Creates a connection for `integration` (`baton` or `hitl_api`): Baton's own
/// integration needs a name only, plus/hitl-api also its webhook URL.
#[server(endpoint = "admin/connections/create")]
pub async fn create_connection(
    name: String,
    #[server(default)] integration: String,
    #[server(default)] webhook_url: String,
    #[server(default)] botpress_bot_id: String,
    #[server(default)] botpress_token: String,
) -> Result<Endpoint, AppError> {
    use backend::connections::{self, NewConnection};
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let integration: Integration = if integration.is_empty() {
        Integration::HitlApi
    } else {
        integration
            .parse()
            .map_err(|e: protocol::UnknownName| AppError::Invalid(e.to_string()))?
    };
    let keyed = match integration {
        Integration::Baton => connections::create_for_baton(&*services.store, &name).await?,
        Integration::HitlApi => {
            // Said now, rather than when the first call fails.
            backend::webhook_guard::check_url(
                webhook_url.trim(),
                services.settings.allow_private_webhooks,
            )?;
            connections::create(
                &*services.store,
                NewConnection {
                    name,
                    webhook_url,
                    botpress_bot_id: Some(botpress_bot_id),
                    botpress_token: Some(botpress_token),
                },
            )
            .await?
        }
    };
    let c = &keyed.connection;
    super::ssr::audit(
        &actor,
        "connection.create",
        serde_json::json!({"connection": c.id, "name": c.name, "api": c.has_api_token,
                           "integration": c.integration}),
    )
    .await?;
    Ok(Endpoint {
        connection_id: c.id,
        name: c.name.clone(),
        url: keyed.endpoint_url(&services.settings.public_url),
        integration: c.integration,
    })
}

/// Edits a connection. Blank secret fields keep the stored value.
#[server(endpoint = "admin/connections/update")]
pub async fn update_connection(
    id: i64,
    name: String,
    end_notice_text: String,
    #[server(default)] webhook_url: String,
    #[server(default)] botpress_bot_id: String,
    #[server(default)] botpress_token: String,
    #[server(default)] clear_api_credentials: Option<String>,
) -> Result<(), AppError> {
    use backend::connections::{self, Edit};
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    if !webhook_url.trim().is_empty() {
        backend::webhook_guard::check_url(
            webhook_url.trim(),
            services.settings.allow_private_webhooks,
        )?;
    }
    let edit = Edit {
        name,
        webhook_url: Some(webhook_url.clone()),
        botpress_bot_id: Some(botpress_bot_id),
        botpress_token: Some(botpress_token.clone()),
        clear_api_credentials: clear_api_credentials.is_some(),
        end_notice_text,
    };
    let credentials_added = connections::update(&*services.store, id, edit).await?;
    if credentials_added {
        backend::botpress::sync::credentials_added(&services, id).await?;
    }
    // Which secrets changed, never their values.
    super::ssr::audit(
        &actor,
        "connection.update",
        serde_json::json!({
            "connection": id,
            "webhook_url_changed": !webhook_url.trim().is_empty(),
            "token_changed": !botpress_token.trim().is_empty(),
            "api_cleared": clear_api_credentials.is_some(),
        }),
    )
    .await
}

/// Issues a new endpoint token; the old URL stops working at once.
#[server(endpoint = "admin/connections/rotate")]
pub async fn rotate_connection(id: i64) -> Result<Endpoint, AppError> {
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let keyed = backend::connections::rotate_token(&*services.store, id).await?;
    super::ssr::audit(
        &actor,
        "connection.rotate_token",
        serde_json::json!({"connection": id}),
    )
    .await?;
    Ok(Endpoint {
        connection_id: id,
        name: keyed.connection.name.clone(),
        url: keyed.endpoint_url(&services.settings.public_url),
        integration: keyed.connection.integration,
    })
}

/// Shows the endpoint URL again (audited: it is the key Botpress signs in with).
#[server(endpoint = "admin/connections/endpoint")]
pub async fn show_endpoint(id: i64) -> Result<Endpoint, AppError> {
    use backend::connections;
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let c = connections::get(&*services.store, id).await?;
    let token = connections::endpoint_token(&*services.store, id).await?;
    super::ssr::audit(
        &actor,
        "connection.show_endpoint",
        serde_json::json!({"connection": id}),
    )
    .await?;
    Ok(Endpoint {
        connection_id: id,
        name: c.name,
        url: connections::endpoint_url(&services.settings.public_url, &token),
        integration: c.integration,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
}

/// Checks the Botpress API credentials, or without them that the webhook host
/// answers. Never calls the webhook itself.
#[server(endpoint = "admin/connections/test")]
pub async fn test_connection(id: i64) -> Result<TestResult, AppError> {
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let result = backend::connections::check(&services, id).await?;
    Ok(TestResult {
        ok: result.ok,
        message: result.message,
    })
}
