//! What admins do through the admin pages' server functions, and what each person
//! does on their profile page.

use backend::users::Role;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{PASSWORD, TestApp, by, spawn_app};

/// The token in a `/welcome?token=…` link.
fn token_of(link: &str) -> &str {
    link.split_once("/welcome?token=")
        .expect("a welcome link")
        .1
}

/// Sets a password through a link; returns the status and the new session cookie.
async fn use_link(app: &TestApp, token: &str, password: &str) -> (u16, Option<String>) {
    let response = app
        .client
        .post(app.url("/api/auth/link/use"))
        .form(&[("token", token), ("password", password)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    (response.status().as_u16(), cookie)
}

async fn agent_row(app: &TestApp, admin: &str, email: &str) -> Value {
    let (status, list) = app.call_form("admin/agents", admin, &[]).await;
    assert_eq!(status, 200);
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("{email} not in {list}"))
}

#[tokio::test]
async fn an_invited_agent_chooses_a_password_through_a_one_time_link() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let (status, created) = app
        .call_form(
            "admin/agents/create",
            &admin,
            &[
                ("email", "new@example.com"),
                ("name", "New Agent"),
                ("role", "agent"),
                ("access", "invite"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let link = created["link"].as_str().unwrap();
    assert!(link.starts_with(&app.address), "{link}");
    assert_eq!(
        agent_row(&app, &admin, "new@example.com").await["invited"],
        true
    );

    let token = token_of(link);
    let (status, info) = app.call_form("auth/link", "", &[("token", token)]).await;
    assert_eq!(status, 200);
    assert_eq!(info["purpose"], "invite");
    assert_eq!(info["name"], "New Agent");

    let (status, _) = use_link(&app, token, "short").await;
    assert_eq!(status, 400, "a too-short password does not spend the link");
    let (status, cookie) = use_link(&app, token, PASSWORD).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("signed in");
    assert_eq!(
        app.call_server_fn("status", Some(&cookie)).await.status(),
        200
    );
    let (status, _) = use_link(&app, token, "another long password").await;
    assert_eq!(status, 400, "a link works once");
    let row = agent_row(&app, &admin, "new@example.com").await;
    assert_eq!(row["invited"], false);
    assert_eq!(row["presence"], "online", "they just made a request");
}

#[tokio::test]
async fn a_reset_link_voids_older_links_and_ends_the_agents_sessions() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let agent = app.signed_in("ana@example.com", Role::Agent).await;
    let id = agent_row(&app, &admin, "ana@example.com").await["id"].to_string();
    let (_, first) = app
        .call_form("admin/agents/reset-link", &admin, &[("id", &id)])
        .await;
    let (status, second) = app
        .call_form("admin/agents/reset-link", &admin, &[("id", &id)])
        .await;
    assert_eq!(status, 200);
    let (status, _) = use_link(
        &app,
        token_of(first.as_str().unwrap()),
        "brand new password",
    )
    .await;
    assert_eq!(status, 400, "the older link was replaced");
    let (status, _) = use_link(
        &app,
        token_of(second.as_str().unwrap()),
        "brand new password",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.call_server_fn("status", Some(&agent)).await.status(),
        401
    );
    let audit: Vec<String> = crate::sql!(
        app,
        sqlx::query_scalar("select action from audit_log order by id"),
        fetch_all
    )
    .unwrap();
    assert!(audit.contains(&"user.reset_link".to_owned()), "{audit:?}");
    assert!(audit.contains(&"link.password_set".to_owned()), "{audit:?}");
}

#[tokio::test]
async fn admins_edit_roles_but_never_remove_the_last_admin() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let me = agent_row(&app, &admin, "admin@example.com").await["id"].to_string();
    let (status, error) = app
        .call_form(
            "admin/agents/update",
            &admin,
            &[("id", &me), ("name", "Boss"), ("role", "agent")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        error["Conflict"]
            .as_str()
            .unwrap()
            .contains("last active admin")
    );
    let (status, _) = app
        .call_form("admin/agents/deactivate", &admin, &[("id", &me)])
        .await;
    assert_eq!(status, 409, "nobody deactivates themselves");

    app.signed_in("second@example.com", Role::Agent).await;
    let second = agent_row(&app, &admin, "second@example.com").await["id"].to_string();
    let (status, _) = app
        .call_form(
            "admin/agents/update",
            &admin,
            &[
                ("id", &second),
                ("name", "  Second Admin "),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let row = agent_row(&app, &admin, "second@example.com").await;
    assert_eq!(
        (row["name"].as_str(), row["role"].as_str()),
        (Some("Second Admin"), Some("admin"))
    );
    // With another admin, demoting oneself is allowed.
    let (status, _) = app
        .call_form(
            "admin/agents/update",
            &admin,
            &[("id", &me), ("name", "Former Boss"), ("role", "agent")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.call_form("admin/agents", &admin, &[]).await.0, 403);
}

#[tokio::test]
async fn deactivating_signs_out_at_once_and_reactivating_lets_back_in() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let agent = app.signed_in("ana@example.com", Role::Agent).await;
    let conn = app.connection("bot", false).await;
    let remote = app.escalate(&conn, "Help").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let ana = &agent.user;
    backend::tickets::assign(&app.services, ticket, ana.id, &by(&app, ana.id).await)
        .await
        .unwrap();

    let id = ana.id.to_string();
    let (status, requeued) = app
        .call_form("admin/agents/deactivate", &admin, &[("id", &id)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(requeued, 1);
    assert_eq!(
        app.call_server_fn("status", Some(&agent)).await.status(),
        401
    );
    let row = agent_row(&app, &admin, "ana@example.com").await;
    assert_eq!(
        (row["active"].as_bool(), row["presence"].as_str()),
        (Some(false), Some("offline"))
    );
    let (status, _) = app
        .call_form("admin/agents/reset-link", &admin, &[("id", &id)])
        .await;
    assert_eq!(status, 409, "no links for a deactivated account");

    let (status, _) = app
        .call_form("admin/agents/reactivate", &admin, &[("id", &id)])
        .await;
    assert_eq!(status, 200);
    let response = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn connection_secrets_go_in_and_never_come_out() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let webhook = format!("{}/hook/secret-webhook-id", app.botpress.uri());
    let (status, endpoint) = app
        .call_form(
            "admin/connections/create",
            &admin,
            &[
                ("name", "Support bot"),
                ("webhook_url", &webhook),
                ("botpress_bot_id", "bot-1"),
                ("botpress_token", "bp_pat_very_secret"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let url = endpoint["url"].as_str().unwrap().to_owned();
    let id = endpoint["connection_id"].to_string();
    let ping = |url: String| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("{url}/ping"))
                .json(&serde_json::json!({"type": "ping"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ping(url.clone()).await, 200, "the shown endpoint URL works");

    let (_, list) = app.call_form("admin/connections", &admin, &[]).await;
    let text = list.to_string();
    for secret in ["secret-webhook-id", "bp_pat_very_secret", token_in(&url)] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    assert_eq!(list[0]["has_api_token"], true);
    assert!(
        list[0]["last_inbound_at"].is_i64(),
        "the ping is the health signal"
    );

    // Blank secret fields keep what is stored.
    let (status, _) = app
        .call_form(
            "admin/connections/update",
            &admin,
            &[
                ("id", &id),
                ("name", "Support bot"),
                ("end_notice_text", "( bye )"),
                ("webhook_url", ""),
                ("botpress_bot_id", "bot-1"),
                ("botpress_token", ""),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let secrets = backend::connections::secrets(app.store(), id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(secrets.webhook_url, webhook);
    assert_eq!(
        secrets.botpress_token.as_deref(),
        Some("bp_pat_very_secret")
    );
    let (status, _) = app
        .call_form(
            "admin/connections/update",
            &admin,
            &[
                ("id", &id),
                ("name", "Support bot"),
                ("end_notice_text", "( bye )"),
                ("clear_api_credentials", "on"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = app.call_form("admin/connections", &admin, &[]).await;
    assert_eq!(list[0]["has_api_token"], false);
    assert_eq!(list[0]["end_notice_text"], "( bye )");

    let (status, rotated) = app
        .call_form("admin/connections/rotate", &admin, &[("id", &id)])
        .await;
    assert_eq!(status, 200);
    let new_url = rotated["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(ping(url).await, 404, "the old endpoint URL stops working");
    assert_eq!(ping(new_url.clone()).await, 200);
    let (_, shown) = app
        .call_form("admin/connections/endpoint", &admin, &[("id", &id)])
        .await;
    assert_eq!(shown["url"], new_url.as_str());
}

fn token_in(endpoint_url: &str) -> &str {
    endpoint_url.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn test_connection_checks_credentials_or_the_webhook_host_without_calling_it() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let test = |id: i64| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let (status, result) = app
                .call_form("admin/connections/test", &admin, &[("id", &id.to_string())])
                .await;
            assert_eq!(status, 200, "{result}");
            (
                result["ok"].as_bool().unwrap(),
                result["message"].as_str().unwrap().to_owned(),
            )
        }
    };

    // Without credentials: the webhook host must accept a connection.
    let reachable = app.connection("reachable", false).await;
    assert!(test(reachable.id).await.0);
    let closed = backend::connections::create(
        app.store(),
        backend::connections::NewConnection {
            name: "closed".into(),
            webhook_url: "http://127.0.0.1:9/hook".into(),
            botpress_bot_id: None,
            botpress_token: None,
        },
    )
    .await
    .unwrap();
    let (ok, message) = test(closed.connection.id).await;
    assert!(!ok && message.contains("Cannot reach"), "{message}");
    let requests = app.botpress.received_requests().await.unwrap_or_default();
    assert!(
        requests.iter().all(|r| !r.url.path().starts_with("/hook/")),
        "the webhook itself is never called"
    );

    // With credentials: one read-only API call decides.
    let with_api = app.connection("api", true).await;
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&app.botpress)
        .await;
    let (ok, message) = test(with_api.id).await;
    assert!(!ok && message.contains("refused"), "{message}");
    Mock::given(method("GET"))
        .and(path("/v1/chat/conversations"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"conversations": [], "meta": {}})),
        )
        .mount(&app.botpress)
        .await;
    assert!(test(with_api.id).await.0);
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_admin_actions_and_filters_them() {
    let app = spawn_app().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    for _ in 0..2 {
        app.login("admin@example.com", "wrong password").await;
    }
    app.call_form(
        "admin/agents/create",
        &admin,
        &[
            ("email", "b@example.com"),
            ("name", "B"),
            ("role", "agent"),
            ("access", "invite"),
        ],
    )
    .await;

    let (status, all) = app.call_form("admin/audit", &admin, &[]).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["user.create", "login.failed", "login.failed", "login"],
        "newest first"
    );
    assert_eq!(all[0]["actor"], "admin@example.com");
    assert_eq!(all[0]["ip"], "127.0.0.1");

    let (_, failed) = app
        .call_form("admin/audit", &admin, &[("action", "login.f")])
        .await;
    assert_eq!(failed.as_array().unwrap().len(), 2);
    let (_, nobody) = app
        .call_form("admin/audit", &admin, &[("actor", "someone-else")])
        .await;
    assert_eq!(nobody.as_array().unwrap().len(), 0);
    // `%` is a literal, not a wildcard.
    let (_, literal) = app
        .call_form("admin/audit", &admin, &[("actor", "%")])
        .await;
    assert_eq!(literal.as_array().unwrap().len(), 0);
    let before = all[1]["id"].to_string();
    let (_, page) = app
        .call_form("admin/audit", &admin, &[("before", &before)])
        .await;
    assert_eq!(page.as_array().unwrap().len(), 2);

    // Programs read the same log with an admin's token.
    let user = backend::accounts::find_by_email(app.store(), "admin@example.com")
        .await
        .unwrap();
    let (_, token) = backend::accounts::create_token(app.store(), user.id, "siem")
        .await
        .unwrap();
    let rest: Value = app
        .client
        .get(app.url("/api/v1/audit?action=login.failed"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest.as_array().unwrap().len(), 2);
    assert!(rest[0]["detail"].is_object());
}

#[tokio::test]
async fn the_profile_changes_the_password_manages_tokens_and_keeps_alert_settings() {
    let app = spawn_app().await;
    let agent = app.signed_in("ana@example.com", Role::Agent).await;

    let (status, alerts) = app.call_form("profile/alerts", &agent, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        alerts,
        serde_json::json!({"sound": true, "desktop": true, "when_focused": false})
    );
    let (status, _) = app
        .call_form("profile/alerts/save", &agent, &[("when_focused", "on")])
        .await;
    assert_eq!(status, 200);
    let (_, alerts) = app.call_form("profile/alerts", &agent, &[]).await;
    assert_eq!(
        alerts,
        serde_json::json!({"sound": false, "desktop": false, "when_focused": true})
    );

    let (status, created) = app
        .call_form("profile/tokens/create", &agent, &[("label", "script")])
        .await;
    assert_eq!(status, 200);
    let token = created["token"].as_str().unwrap().to_owned();
    let (_, list) = app.call_form("profile/tokens", &agent, &[]).await;
    assert_eq!(list[0]["label"], "script");
    assert!(!list.to_string().contains(&token), "a token is shown once");
    let me = |t: String| {
        let request = app.client.get(app.url("/api/v1/me")).bearer_auth(t);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(token.clone()).await, 200);
    let id = created["id"].to_string();
    let (status, _) = app
        .call_form("profile/tokens/revoke", &agent, &[("id", &id)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(me(token).await, 401);

    let (status, error) = app
        .call_form(
            "profile/password",
            &agent,
            &[
                ("current", "not my password"),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{error}");
    let (status, _) = app
        .call_form(
            "profile/password",
            &agent,
            &[
                ("current", PASSWORD),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.call_server_fn("status", Some(&agent)).await.status(),
        401
    );
    let login = app.login("ana@example.com", "a new long password").await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn the_cli_prints_invitation_and_reset_links_that_work() {
    let app = spawn_app().await;
    let (ok, out, err) = app
        .cli(
            &[
                "user",
                "create",
                "--email",
                "inv@example.com",
                "--name",
                "Inv",
                "--role",
                "agent",
            ],
            None,
        )
        .await;
    assert!(ok, "{err}");
    let link = out.lines().last().unwrap();
    assert_eq!(use_link(&app, token_of(link), PASSWORD).await.0, 200);

    let (ok, out, err) = app
        .cli(
            &["user", "reset-password", "--email", "inv@example.com"],
            None,
        )
        .await;
    assert!(ok, "{err}");
    assert!(err.contains("valid 24 h"), "{err}");
    let link = out.trim();
    assert_eq!(
        use_link(&app, token_of(link), "the reset password").await.0,
        200
    );
    let (ok, _, err) = app
        .cli(
            &["user", "reset-password", "--email", "nobody@example.com"],
            None,
        )
        .await;
    assert!(!ok && err.contains("not found"), "{err}");
}
