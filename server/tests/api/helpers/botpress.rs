//! A connection to the fake Botpress, and the calls plus/hitl-api makes to Baton.

use serde_json::{Value, json};
use wiremock::MockServer;

use super::TestApp;

/// A Botpress connection created for a test.
pub struct TestConnection {
    pub id: i64,
    /// `http://127.0.0.1:<port>/botpress/<token>`: what the bot owner pastes into Botpress.
    pub endpoint: String,
    pub token: String,
    /// Path prefix of this bot's webhook on the fake Botpress, e.g. `/hook/3/support`.
    pub webhook_path: String,
}

impl TestApp {
    /// Where a bot named `name` gets its webhook on this app's fake Botpress. The app's
    /// own number is in it: wiremock hands a finished test's server to the next test,
    /// and a call still in flight from the finished test's Baton must not count as
    /// one the next test's Baton made.
    pub fn hook_path(&self, name: &str) -> String {
        format!("/hook/{}/{name}", self.number)
    }

    /// A connection whose webhook is the fake Botpress; with `api`, also a bot id and
    /// access token for the fake Runtime API.
    pub async fn connection(&self, name: &str, api: bool) -> TestConnection {
        let webhook_path = self.hook_path(name);
        let keyed = backend::connections::create(
            self.store(),
            backend::connections::NewConnection {
                name: name.into(),
                webhook_url: format!("{}{webhook_path}", self.botpress.uri()),
                botpress_bot_id: api.then(|| "bot_test".to_owned()),
                botpress_token: api.then(|| "bp_pat_test".to_owned()),
            },
        )
        .await
        .unwrap();
        TestConnection {
            id: keyed.connection.id,
            endpoint: keyed.endpoint_url(&self.address),
            token: keyed.endpoint_token,
            webhook_path,
        }
    }

    /// A connection for Baton's own integration, registered as the integration does
    /// when installed (its webhook on the fake Botpress); returns it and the signing
    /// key the registration answered with.
    pub async fn baton_connection(&self, name: &str) -> (TestConnection, String) {
        let webhook_path = self.hook_path(name);
        let keyed = backend::connections::create_for_baton(self.store(), name)
            .await
            .unwrap();
        let conn = TestConnection {
            id: keyed.connection.id,
            endpoint: keyed.endpoint_url(&self.address),
            token: keyed.endpoint_token,
            webhook_path,
        };
        let response = self
            .botpress_call(
                &conn,
                "register",
                &serde_json::json!({"webhookUrl": format!("{}{}", self.botpress.uri(), conn.webhook_path),
                                    "botId": "bot_test"}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let key = body["signingKey"]
            .as_str()
            .expect("a signing key")
            .to_owned();
        (conn, key)
    }

    /// POSTs a JSON body to one of the Botpress routes of `conn`.
    pub async fn botpress_call(
        &self,
        conn: &TestConnection,
        route: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/{route}", conn.endpoint))
            .json(body)
            .send()
            .await
            .expect("botpress call")
    }

    /// `/createRemoteConversation` with a title, returning the ticket's remote id.
    pub async fn escalate(&self, conn: &TestConnection, title: &str) -> String {
        let response = self
            .botpress_call(
                conn,
                "createRemoteConversation",
                &serde_json::json!({"type": "createRemoteConversation",
                                    "payload": {"title": title, "description": "from a test"}}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("id is a string").to_owned()
    }

    /// `/createRemoteUser`, returning the customer's remote id.
    pub async fn remote_user(&self, conn: &TestConnection, name: &str, email: &str) -> String {
        let response = self
            .botpress_call(
                conn,
                "createRemoteUser",
                &serde_json::json!({"type": "createRemoteUser",
                                    "payload": {"role": "end-user", "name": name, "email": email}}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("id is a string").to_owned()
    }

    /// `/botSendsMessage` with `payload` from `remote_user` (a customer id or "BOT").
    pub async fn user_says(
        &self,
        conn: &TestConnection,
        ticket: &str,
        remote_user: &str,
        payload: Value,
    ) {
        let response = self
            .botpress_call(
                conn,
                "botSendsMessage",
                &serde_json::json!({"type": "botSendsMessage", "remoteConversationId": ticket,
                                    "remoteUserId": remote_user, "payload": payload}),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The ticket row id for a remote id.
    pub async fn ticket_id(&self, conn: &TestConnection, remote_id: &str) -> i64 {
        let sql = "select id from tickets where connection_id = $1 and remote_id = $2";
        match &self.services.db {
            backend::db::Database::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(conn.id)
                .bind(remote_id)
                .fetch_one(pool)
                .await
                .unwrap(),
            backend::db::Database::Postgres(pool) => sqlx::query_scalar(sql)
                .bind(conn.id)
                .bind(remote_id)
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }

    /// The ticket's activity lines, oldest first.
    pub async fn activity(&self, ticket: i64) -> Vec<String> {
        backend::tickets::activity::since(self.store(), ticket, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    /// The HITL plugin's default "user ended the session" notice, sent as `BOT`.
    pub async fn end_notice(&self, conn: &TestConnection, ticket: &str) {
        let text = "( The user has ended the session. )";
        self.user_says(
            conn,
            ticket,
            "BOT",
            serde_json::json!({"type": "text", "text": text}),
        )
        .await;
    }

    /// `/closeRemoteTicket` for a Botpress conversation id.
    pub async fn close_remote(
        &self,
        conn: &TestConnection,
        conversation: &str,
    ) -> reqwest::Response {
        self.botpress_call(
            conn,
            "closeRemoteTicket",
            &serde_json::json!({"type": "closeRemoteTicket",
                                "payload": {"botpressConversationId": conversation}}),
        )
        .await
    }

    /// Requests the fake Botpress received on `path`, bodies parsed as JSON.
    /// Makes every bot webhook answer 200.
    pub async fn accept_webhooks(&self) {
        use wiremock::matchers::{method, path_regex};
        wiremock::Mock::given(method("POST"))
            .and(path_regex("^/hook/"))
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&self.botpress)
            .await;
    }

    pub async fn webhook_calls(&self, path: &str) -> Vec<Value> {
        self.botpress
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

/// The texts of the agent replies `botpress` received, every attempt, in arrival order.
pub async fn replies_received(botpress: &MockServer) -> Vec<String> {
    botpress
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/message-from-agent"))
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            body["payload"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A ticket whose customer has written (so the Botpress session is live).
pub async fn live_ticket(app: &TestApp, conn: &TestConnection, title: &str) -> String {
    let customer = app.remote_user(conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(conn, title).await;
    app.user_says(
        conn,
        &remote,
        &customer,
        json!({"type": "text", "text": "I need a human", "userId": "user_1"}),
    )
    .await;
    remote
}
