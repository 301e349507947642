//! Preparing a database before Baton starts, and the Botpress side of the protocol.

use std::path::Path;

use anyhow::Context;
use backend::users::Role;
use serde_json::{Value, json};

use crate::process::database_url;

pub const PASSWORD: &str = "bench-password-1234";

/// A Botpress connection whose webhook is `webhook_url`; returns the endpoint token.
pub async fn connection(database: &Path, webhook_url: &str) -> anyhow::Result<String> {
    connection_at(&database_url(database), webhook_url).await
}

/// [`connection`] in the database at `url`, of either engine.
pub async fn connection_at(url: &str, webhook_url: &str) -> anyhow::Result<String> {
    let db = backend::db::Database::open(url).await?;
    let store = db.store();
    let keyed = backend::connections::create(
        &*store,
        backend::connections::NewConnection {
            name: "bench".into(),
            webhook_url: webhook_url.into(),
            botpress_bot_id: None,
            botpress_token: None,
        },
    )
    .await?;
    db.close().await;
    Ok(keyed.endpoint_token)
}

/// `count` agents with an API token each; returns the tokens.
pub async fn agents(database: &Path, count: usize) -> anyhow::Result<Vec<String>> {
    agents_at(&database_url(database), count).await
}

/// [`agents`] in the database at `url`, of either engine.
pub async fn agents_at(url: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let db = backend::db::Database::open(url).await?;
    let store = db.store();
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let email = format!("agent{i}@bench.example");
        let user =
            backend::accounts::create_user(&*store, &email, "Bench agent", Role::Agent, None)
                .await?;
        let (_, token) = backend::accounts::create_token(&*store, user.id, "bench").await?;
        tokens.push(token);
    }
    db.close().await;
    Ok(tokens)
}

/// The Botpress side: the calls plus/hitl-api makes to Baton.
#[derive(Clone)]
pub struct Botpress {
    pub client: reqwest::Client,
    /// `http://…/botpress/<token>`
    pub endpoint: String,
}

impl Botpress {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            endpoint: format!("{base}/botpress/{token}"),
        }
    }

    async fn call(&self, route: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!("{}/{route}", self.endpoint))
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{route}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn customer(&self) -> anyhow::Result<String> {
        let body = self
            .call(
                "createRemoteUser",
                json!({"type": "createRemoteUser",
                       "payload": {"role": "end-user", "name": "Dana", "email": "dana@example.org"}}),
            )
            .await?;
        body["id"].as_str().map(str::to_owned).context("no user id")
    }

    pub async fn escalate(&self, title: &str) -> anyhow::Result<String> {
        let body = self
            .call(
                "createRemoteConversation",
                json!({"type": "createRemoteConversation",
                       "payload": {"title": title, "description": "benchmark"}}),
            )
            .await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .context("no conversation id")
    }

    /// The body of a customer's text message, ready to send many times.
    pub fn message(ticket: &str, customer: &str, text: &str) -> String {
        json!({"type": "botSendsMessage", "remoteConversationId": ticket,
               "remoteUserId": customer, "payload": {"type": "text", "text": text}})
        .to_string()
    }

    pub fn messages_url(&self) -> String {
        format!("{}/botSendsMessage", self.endpoint)
    }

    pub async fn says(&self, ticket: &str, customer: &str, text: &str) -> anyhow::Result<()> {
        let body = Self::message(ticket, customer, text);
        let response = self
            .client
            .post(self.messages_url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "botSendsMessage: {}",
            response.status()
        );
        Ok(())
    }
}
