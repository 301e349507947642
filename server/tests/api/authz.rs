//! The authorization matrix: every server function, REST route and page, called by an
//! anonymous visitor, an agent, an admin and a deactivated agent. The lists under test
//! come from what the server registers, so a new route without an entry here fails.

use baton::http::api::Access;
use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// Anyone (sign-in, first run, invitation links).
    Public,
    /// Any active account.
    Account,
    /// Admins only.
    Admin,
    /// The start page: it sends accounts on to the inbox, anyone else to sign in.
    Start,
}

/// Every server function with who may call it and a well-formed body, so that the
/// answer is about access and not about decoding.
pub(crate) const SERVER_FNS: &[(&str, Who, &str)] = &[
    ("auth/me", Who::Public, ""),
    (
        "auth/login",
        Who::Public,
        "email=nobody@example.com&password=not+the+password",
    ),
    (
        "auth/setup",
        Who::Public,
        "token=x&email=a@example.com&name=A&password=0123456789",
    ),
    ("auth/setup/check", Who::Public, "token=x"),
    ("auth/link", Who::Public, "token=x"),
    ("auth/link/use", Who::Public, "token=x&password=0123456789"),
    ("status", Who::Account, ""),
    (
        "profile/password",
        Who::Account,
        "current=wrong+password&new_password=0123456789ab",
    ),
    ("profile/tokens", Who::Account, ""),
    ("profile/tokens/create", Who::Account, "label=matrix"),
    ("profile/tokens/revoke", Who::Account, "id=999999"),
    ("profile/availability", Who::Account, ""),
    ("profile/availability/set", Who::Account, "status=away"),
    ("profile/alerts", Who::Account, ""),
    ("profile/alerts/save", Who::Account, "sound=on"),
    ("canned", Who::Account, ""),
    (
        "canned/create",
        Who::Account,
        "shortcut=matrix&body=hello&shared=false",
    ),
    ("canned/update", Who::Account, "id=999999&shortcut=x&body=x"),
    ("canned/delete", Who::Account, "id=999999"),
    ("labels", Who::Account, ""),
    ("search", Who::Account, "q=matrix"),
    ("customers/profile", Who::Account, "id=cus_none"),
    (
        "customers/update",
        Who::Account,
        "id=cus_none&name=x&phone=&company=",
    ),
    ("customers/note", Who::Account, "id=cus_none&text=hi"),
    ("customers/botpress", Who::Account, "id=cus_none"),
    ("search/options", Who::Account, ""),
    (
        "admin/labels/create",
        Who::Admin,
        "name=matrix&colour=%23123456",
    ),
    (
        "admin/labels/update",
        Who::Admin,
        "id=999999&name=x&colour=%23123456",
    ),
    ("admin/labels/delete", Who::Admin, "id=999999"),
    ("admin/agents", Who::Admin, ""),
    (
        "admin/agents/create",
        Who::Admin,
        "email=made@example.com&name=Made&role=agent&access=invite",
    ),
    (
        "admin/agents/update",
        Who::Admin,
        "id=999999&name=N&role=agent",
    ),
    ("admin/agents/deactivate", Who::Admin, "id=999999"),
    ("admin/agents/reactivate", Who::Admin, "id=999999"),
    ("admin/agents/reset-link", Who::Admin, "id=999999"),
    ("admin/connections", Who::Admin, ""),
    (
        "admin/connections/create",
        Who::Admin,
        "name=matrix&webhook_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook",
    ),
    (
        "admin/connections/update",
        Who::Admin,
        "id=999999&name=x&end_notice_text=x",
    ),
    ("admin/connections/rotate", Who::Admin, "id=999999"),
    ("admin/connections/endpoint", Who::Admin, "id=999999"),
    ("admin/connections/test", Who::Admin, "id=999999"),
    ("admin/audit", Who::Admin, ""),
    ("admin/routing", Who::Admin, ""),
    (
        "admin/reports",
        Who::Admin,
        "from=2026-01-01&to=2026-01-31&tz=UTC",
    ),
    ("admin/reports/choices", Who::Admin, ""),
    (
        "admin/routing/team",
        Who::Admin,
        "name=matrix&agents=&connections=",
    ),
    ("admin/routing/team/delete", Who::Admin, "id=999999"),
    (
        "admin/routing/connection",
        Who::Admin,
        "id=999999&assignment=manual&default_capacity=3",
    ),
    ("admin/routing/capacity", Who::Admin, "id=999999&capacity=2"),
    (
        "admin/routing/hours",
        Who::Admin,
        "id=999999&when_unavailable=queue",
    ),
    ("admin/alerts", Who::Admin, ""),
    ("admin/alerts/save", Who::Admin, "minutes=5"),
    ("inbox/summary", Who::Account, ""),
    ("inbox/list", Who::Account, "view=queued"),
    ("inbox/ticket", Who::Account, "id=tkt_none"),
    ("inbox/read", Who::Account, "id=tkt_none"),
    ("inbox/take", Who::Account, "id=tkt_none"),
    ("inbox/transfer", Who::Account, "id=tkt_none&agent=agt_none"),
    ("inbox/close", Who::Account, "id=tkt_none"),
    ("inbox/reply", Who::Account, "id=tkt_none&text=hi"),
    ("inbox/resend", Who::Account, "message=999999"),
    ("inbox/note", Who::Account, "id=tkt_none&text=hi"),
    (
        "inbox/label",
        Who::Account,
        "id=tkt_none&label=999999&on=true",
    ),
    ("inbox/agents", Who::Account, ""),
    ("inbox/mentionable", Who::Account, "id=tkt_none"),
    // Last: it ends the caller's session.
    ("auth/logout", Who::Public, ""),
];

/// Every page and who may see it.
pub(crate) const PAGES: &[(&str, Who)] = &[
    ("/", Who::Start),
    ("/status", Who::Account),
    ("/login", Who::Public),
    ("/setup", Who::Public),
    ("/welcome", Who::Public),
    ("/profile", Who::Account),
    ("/inbox", Who::Account),
    ("/inbox/{id}", Who::Account),
    ("/customers/{id}", Who::Account),
    ("/admin/agents", Who::Admin),
    ("/admin/connections", Who::Admin),
    ("/admin/replies", Who::Admin),
    ("/admin/labels", Who::Admin),
    ("/admin/routing", Who::Admin),
    ("/reports", Who::Admin),
    ("/admin/audit", Who::Admin),
];

/// Sessions and tokens for the four kinds of caller.
struct Callers {
    agent: (String, String),
    admin: (String, String),
    deactivated: (String, String),
}

async fn callers(app: &TestApp) -> Callers {
    use backend::users::Role;
    async fn token(app: &TestApp, email: &str) -> String {
        let user = backend::accounts::find_by_email(app.store(), email)
            .await
            .unwrap();
        backend::accounts::create_token(app.store(), user.id, "matrix")
            .await
            .unwrap()
            .1
    }
    let agent = app.signed_in("agent@example.com", Role::Agent).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let gone = app.signed_in("gone@example.com", Role::Agent).await;
    let callers = Callers {
        agent: (agent.cookie, token(app, "agent@example.com").await),
        admin: (admin.cookie, token(app, "admin@example.com").await),
        deactivated: (gone.cookie, token(app, "gone@example.com").await),
    };
    let gone = backend::accounts::find_by_email(app.store(), "gone@example.com")
        .await
        .unwrap();
    backend::accounts::deactivate(&app.services, gone.id)
        .await
        .unwrap();
    callers
}

#[test]
fn the_matrix_lists_every_registered_server_function_and_page() {
    let listed: Vec<String> = SERVER_FNS
        .iter()
        .map(|(p, ..)| format!("/api/{p}"))
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        baton::http::server_fns::registered(),
        "add new server functions to SERVER_FNS"
    );
    let mut pages: Vec<String> = PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    pages.sort();
    let mut registered = baton::startup::page_paths();
    registered.sort();
    assert_eq!(pages, registered, "add new pages to PAGES");
}

#[tokio::test]
async fn every_server_function_checks_who_calls_it() {
    let app = spawn_app().await;
    let who = callers(&app).await;
    for &(endpoint, access, body) in SERVER_FNS {
        let anonymous = app.call_fn(endpoint, None, body).await.status();
        let deactivated = app
            .call_fn(endpoint, Some(&who.deactivated.0), body)
            .await
            .status();
        let agent = app
            .call_fn(endpoint, Some(&who.agent.0), body)
            .await
            .status();
        let admin = app
            .call_fn(endpoint, Some(&who.admin.0), body)
            .await
            .status();
        for (caller, status) in [
            ("anonymous", anonymous),
            ("deactivated", deactivated),
            ("agent", agent),
            ("admin", admin),
        ] {
            assert!(
                !status.is_server_error(),
                "{endpoint} as {caller}: {status}"
            );
        }
        let denied = |s: StatusCode| s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN;
        match access {
            Who::Public | Who::Start => {}
            Who::Account => {
                assert_eq!(anonymous, 401, "{endpoint} anonymous");
                assert_eq!(deactivated, 401, "{endpoint} deactivated");
                assert!(!denied(agent), "{endpoint} agent: {agent}");
                assert!(!denied(admin), "{endpoint} admin: {admin}");
            }
            Who::Admin => {
                assert_eq!(anonymous, 401, "{endpoint} anonymous");
                assert_eq!(deactivated, 401, "{endpoint} deactivated");
                assert_eq!(agent, 403, "{endpoint} agent");
                assert!(!denied(admin), "{endpoint} admin: {admin}");
            }
        }
    }
}

#[tokio::test]
async fn every_rest_route_checks_the_token_and_the_role() {
    let app = spawn_app().await;
    let who = callers(&app).await;
    let routes = baton::http::api::routes().list;
    assert!(!routes.is_empty());
    for route in routes {
        // Path parameters name something that does not exist: the answer is then
        // about access (401/403) or "not found", never a success or a fault.
        let mut path = route.path.replace("{id}", "tkt_does_not_exist");
        if route.path == "/api/v1/search" {
            path.push_str("?q=matrix");
        }
        if route.path.starts_with("/api/v1/reports/") {
            path.push_str("?from=2026-01-01&to=2026-01-31&tz=Europe/Paris");
        }
        let body = if route.path.ends_with("/messages") || route.path.ends_with("/notes") {
            serde_json::json!({"text": "hello"})
        } else if route.path == "/api/v1/canned-replies" {
            serde_json::json!({"shortcut": "matrix", "body": "hello"})
        } else if route.path == "/api/v1/labels" {
            serde_json::json!({"name": "matrix", "colour": "#123456"})
        } else if route.path == "/api/v1/teams" {
            serde_json::json!({"name": "matrix"})
        } else if route.path == "/api/v1/me/availability" {
            serde_json::json!({"status": "away"})
        } else {
            serde_json::json!({})
        };
        let call = |token: Option<String>, cookie: Option<&str>| {
            let mut request = match route.method {
                "GET" => app.client.get(app.url(&path)),
                "POST" => app.client.post(app.url(&path)).json(&body),
                "PUT" => app.client.put(app.url(&path)).json(&body),
                "PATCH" => app.client.patch(app.url(&path)).json(&body),
                "DELETE" => app.client.delete(app.url(&path)),
                other => panic!("extend this test for {other}"),
            };
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            if let Some(c) = cookie {
                request = request.header("cookie", c);
            }
            request.send()
        };
        let allowed = |status: StatusCode| {
            assert!(
                status.is_success() || status == StatusCode::NOT_FOUND,
                "{} {path}: {status}",
                route.method
            );
        };
        for (caller, token, refused) in [
            ("anonymous", None, Some(401)),
            ("bad token", Some("baton_not_a_token".to_owned()), Some(401)),
            ("deactivated", Some(who.deactivated.1.clone()), Some(401)),
            (
                "agent",
                Some(who.agent.1.clone()),
                (route.access == Access::Admin).then_some(403),
            ),
            ("admin", Some(who.admin.1.clone()), None),
        ] {
            let response = call(token, None).await.unwrap();
            match refused {
                Some(expected) => {
                    assert_eq!(
                        response.status(),
                        expected,
                        "{} {path} as {caller}",
                        route.method
                    );
                    let body: serde_json::Value = response.json().await.unwrap();
                    assert!(
                        body["error"].as_str().is_some_and(|e| !e.is_empty()),
                        "{body}"
                    );
                }
                None => allowed(response.status()),
            }
        }
        // A browser session is not an API token, except where a route says so.
        let with_cookie = call(None, Some(&who.admin.0)).await.unwrap();
        if route.session {
            allowed(with_cookie.status());
            let gone = call(None, Some(&who.deactivated.0)).await.unwrap();
            assert_eq!(
                gone.status(),
                401,
                "{} {path} deactivated session",
                route.method
            );
        } else {
            assert_eq!(
                with_cookie.status(),
                401,
                "{} {path} with a cookie",
                route.method
            );
        }
    }
}

#[tokio::test]
async fn the_websocket_checks_who_opens_it() {
    use crate::realtime::{Auth, open};
    let app = spawn_app().await;
    let who = callers(&app).await;
    let origin = Some(app.address.as_str());
    let status = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
    };
    for (caller, auth, expected) in [
        ("anonymous", Auth::None, 401),
        ("deactivated session", Auth::Cookie(&who.deactivated.0), 401),
        ("deactivated token", Auth::Bearer(&who.deactivated.1), 401),
        ("agent session", Auth::Cookie(&who.agent.0), 101),
        ("agent token", Auth::Bearer(&who.agent.1), 101),
        ("admin session", Auth::Cookie(&who.admin.0), 101),
    ] {
        assert_eq!(
            status(open(&app, auth, origin, None).await),
            expected,
            "/ws as {caller}"
        );
    }
}

#[tokio::test]
async fn every_page_checks_who_opens_it() {
    let app = spawn_app().await;
    let who = callers(&app).await;
    // A real ticket: an unknown one is a 404 whoever asks.
    let conn = app.connection("authz-bot", false).await;
    let ticket = app.escalate(&conn, "Who may open this").await;
    let customer = app.remote_user(&conn, "Who May", "who@example.org").await;
    for &(path, access) in PAGES {
        let subject = if path.starts_with("/customers/") {
            &customer
        } else {
            &ticket
        };
        let path = &path.replace("{id}", subject);
        let anonymous = app.get(path).await;
        let deactivated = app.get_as(&who.deactivated.0, path).await;
        let agent = app.get_as(&who.agent.0, path).await;
        let admin = app.get_as(&who.admin.0, path).await;
        match access {
            Who::Public => {
                assert!(
                    anonymous.status().is_success(),
                    "{path}: {}",
                    anonymous.status()
                );
            }
            Who::Start => {
                for (caller, response, to) in [
                    ("anonymous", &anonymous, "/login"),
                    ("deactivated", &deactivated, "/login"),
                    ("agent", &agent, "/inbox"),
                    ("admin", &admin, "/inbox"),
                ] {
                    assert_eq!(response.status(), 302, "{path} as {caller}");
                    assert_eq!(response.headers()["location"], to, "{path} as {caller}");
                }
            }
            Who::Account | Who::Admin => {
                for (caller, response) in [("anonymous", &anonymous), ("deactivated", &deactivated)]
                {
                    assert_eq!(response.status(), 302, "{path} as {caller}");
                    assert_eq!(
                        response.headers()["location"],
                        "/login",
                        "{path} as {caller}"
                    );
                }
                let expected_agent = if access == Who::Admin { 403 } else { 200 };
                assert_eq!(agent.status(), expected_agent, "{path} as agent");
                assert_eq!(admin.status(), 200, "{path} as admin");
            }
        }
    }
}
