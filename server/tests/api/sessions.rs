//! Signing in and out through the server functions, as the browser does.

use backend::users::Role;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

const COOKIE: &str = "baton_session";

async fn account(app: &TestApp, email: &str, role: Role) -> backend::users::User {
    backend::accounts::create_user(app.store(), email, "Someone", role, Some(PASSWORD.into()))
        .await
        .unwrap()
}

/// Signs in with an optional forced cookie; returns (status, body, new session cookie).
async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut request = app
        .client
        .post(app.url("/api/auth/login"))
        .form(&[("email", email), ("password", password)]);
    if let Some(c) = cookie {
        request = request.header("cookie", format!("{COOKIE}={c}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{COOKIE}=")));
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, set_cookie)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap()
}

/// Who `/api/auth/me` says is signed in with `cookie`.
async fn me(app: &TestApp, cookie: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/auth/me"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_session_cookie() {
    let app = spawn_app().await;
    let ana = account(&app, "ana@example.com", Role::Agent).await;
    let (status, body, cookie) = sign_in(&app, "ana@example.com", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "ana@example.com");
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http here; Secure comes with an https public URL"
    );
    let who = me(&app, &cookie_value(&cookie)).await;
    assert_eq!(who["id"], ana.id);
    assert!(who.get("password_hash").is_none());
    let audit: Vec<(String, Option<String>)> = crate::sql!(
        app,
        sqlx::query_as("select action, ip from audit_log where action like 'login%'"),
        fetch_all
    )
    .unwrap();
    assert_eq!(audit, [("login".to_owned(), Some("127.0.0.1".to_owned()))]);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app().await;
    account(&app, "ana@example.com", Role::Agent).await;
    let (s1, b1, c1) = sign_in(&app, "ana@example.com", "not the password", None).await;
    let (s2, b2, c2) = sign_in(&app, "nobody@example.com", PASSWORD, None).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(b1, b2, "no hint which part was wrong");
    assert_eq!(b1, serde_json::json!("BadCredentials"));
    assert!(
        c1.is_none() && c2.is_none(),
        "no session for a failed sign-in"
    );
    let failed: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from audit_log where action = 'login.failed'"),
        fetch_one
    )
    .unwrap();
    assert_eq!(failed, 2);
}

#[tokio::test]
async fn a_planted_session_id_is_replaced_at_sign_in() {
    let app = spawn_app().await;
    account(&app, "ana@example.com", Role::Agent).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let (status, body, cookie) = sign_in(&app, "ana@example.com", PASSWORD, Some(planted)).await;
    let fresh = cookie_value(&cookie.unwrap_or_else(|| panic!("{status} {body}")));
    assert_ne!(fresh, planted);
    assert_eq!(
        me(&app, planted).await,
        Value::Null,
        "the planted id gives no access"
    );
    // Signing in on a live session (say, the attacker's own, planted in the victim's
    // browser) also gets a new id.
    let (_, _, again) = sign_in(&app, "ana@example.com", PASSWORD, Some(&fresh)).await;
    let again = cookie_value(&again.unwrap());
    assert_ne!(again, fresh);
    assert_eq!(me(&app, &fresh).await, Value::Null, "the old id is dead");
    assert_eq!(me(&app, &again).await["email"], "ana@example.com");
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    account(&app, "ana@example.com", Role::Agent).await;
    let (_, _, cookie) = sign_in(&app, "ana@example.com", PASSWORD, None).await;
    let session = cookie_value(&cookie.unwrap());
    let out = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("{COOKIE}={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    // A copy of the cookie kept by an attacker is worth nothing now.
    assert_eq!(me(&app, &session).await, Value::Null);
}

#[tokio::test]
async fn deactivation_and_password_changes_end_sessions_at_once() {
    let app = spawn_app().await;
    let ana = account(&app, "ana@example.com", Role::Agent).await;
    let ben = account(&app, "ben@example.com", Role::Agent).await;
    let (_, _, a) = sign_in(&app, "ana@example.com", PASSWORD, None).await;
    let (_, _, b) = sign_in(&app, "ben@example.com", PASSWORD, None).await;
    let (a, b) = (cookie_value(&a.unwrap()), cookie_value(&b.unwrap()));
    backend::accounts::deactivate(&app.services, ana.id)
        .await
        .unwrap();
    assert_eq!(me(&app, &a).await, Value::Null);
    backend::accounts::set_password(app.store(), ben.id, "a brand new password".into())
        .await
        .unwrap();
    assert_eq!(me(&app, &b).await, Value::Null);
    let (status, _, _) = sign_in(&app, "ana@example.com", PASSWORD, None).await;
    assert_eq!(status, 401, "a deactivated account cannot sign in");
}

#[tokio::test]
async fn repeated_failures_are_limited_with_a_clear_wait() {
    let app = spawn_app().await;
    account(&app, "ana@example.com", Role::Agent).await;
    account(&app, "ben@example.com", Role::Agent).await;
    for _ in 0..5 {
        let (status, _, _) = sign_in(&app, "ana@example.com", "not the password", None).await;
        assert_eq!(status, 401);
    }
    // Even the right password waits now, and the answer says how long.
    let response = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 800 && wait <= 900, "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["RateLimited"], wait);
    // Another account is not locked out by Ana's attacker.
    let (status, _, _) = sign_in(&app, "ben@example.com", PASSWORD, None).await;
    assert_eq!(status, 200);
    let limited: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from audit_log where action = 'login.limited'"),
        fetch_one
    )
    .unwrap();
    assert_eq!(limited, 1);
}

/// Signs in as a client behind a proxy that says it is `client`; returns the status.
async fn sign_in_from(app: &TestApp, client: &str, email: &str, password: &str) -> u16 {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", client)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from audit_log where action = $1").bind(action),
        fetch_one
    )
    .unwrap()
}

#[tokio::test]
async fn parallel_wrong_guesses_cannot_race_past_the_limit() {
    let app = spawn_app().await;
    account(&app, "ana@example.com", Role::Agent).await;
    let hashed_before = backend::accounts::password::stats().started;
    let guesses = (0..50).map(|i| {
        let app = &app;
        async move {
            sign_in(app, "ana@example.com", &format!("guess number {i}"), None)
                .await
                .0
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 45), "{statuses:?}");
    assert_eq!(audit_count(&app, "login.failed").await, 5);
    assert_eq!(
        audit_count(&app, "login.limited").await,
        1,
        "audited once, not 45 times"
    );
    let hashed = backend::accounts::password::stats().started - hashed_before;
    assert_eq!(hashed, 5, "only the five allowed guesses were checked");
}

#[tokio::test]
async fn bad_links_and_setup_tokens_cost_no_password_hash() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@example.com", Role::Admin).await;
    // A real link exists; the requests below guess at it.
    backend::accounts::links::issue(&*app.services.store, admin.id)
        .await
        .unwrap();
    let setup = backend::accounts::setup::issue(app.store()).await.unwrap();
    let before = backend::accounts::password::stats().started;
    let guesses = (0..64).map(|i| {
        let app = &app;
        async move {
            let token = format!("made-up-{i}");
            app.call_form(
                "auth/link/use",
                "",
                &[("token", &token), ("password", PASSWORD)],
            )
            .await
            .0
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    // A real setup link, but Baton already has an account: refused before hashing.
    assert_eq!(
        setup_call(&app, &setup, "late@example.com").await.status(),
        400
    );
    assert_eq!(
        setup_call(&app, "made-up", "x@example.com").await.status(),
        400
    );
    assert_eq!(backend::accounts::password::stats().started, before);
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_answered_without_running_more_hashes_than_cores() {
    // Behind a trusted proxy, so each request is its own client and no limit applies.
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let flood = (0..120).map(|i| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", format!("203.0.113.{}", i % 250 + 1))
                .form(&[
                    ("email", format!("nobody{i}@example.com")),
                    ("password", PASSWORD.to_owned()),
                ])
                .send()
                .await
                .unwrap();
            let retry = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), retry)
        }
    });
    let answers = futures_util::future::join_all(flood).await;
    for (status, retry) in &answers {
        assert!(
            *status == 401 || (*status == 503 && *retry),
            "every answer is a wrong password or a 503 with Retry-After: {answers:?}"
        );
    }
    let stats = backend::accounts::password::stats();
    assert!(stats.peak <= stats.workers, "{stats:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    account(&app, "ana@example.com", Role::Agent).await;
    for i in 0..20 {
        let status = sign_in_from(
            &app,
            "203.0.113.7",
            &format!("guess{i}@example.com"),
            "wrong",
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        sign_in_from(&app, "203.0.113.7", "other@example.com", "wrong").await,
        429
    );
    // Someone else behind the same proxy is not locked out by them.
    assert_eq!(
        sign_in_from(&app, "198.51.100.2", "ana@example.com", PASSWORD).await,
        200
    );
    let ips: Vec<Option<String>> = crate::sql!(
        app,
        sqlx::query_scalar(
            "select distinct ip from audit_log where action like 'login%' order by ip",
        ),
        fetch_all
    )
    .unwrap();
    assert_eq!(
        ips,
        [
            Some("198.51.100.2".to_owned()),
            Some("203.0.113.7".to_owned())
        ]
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_ignored() {
    let app = spawn_app().await;
    for i in 0..20 {
        let client = format!("203.0.113.{i}");
        let status = sign_in_from(&app, &client, &format!("guess{i}@example.com"), "wrong").await;
        assert_eq!(status, 401);
    }
    // Writing another address in the header does not escape the limit.
    assert_eq!(
        sign_in_from(&app, "198.51.100.2", "other@example.com", "wrong").await,
        429
    );
    let ips: Vec<Option<String>> = crate::sql!(
        app,
        sqlx::query_scalar("select distinct ip from audit_log"),
        fetch_all
    )
    .unwrap();
    assert_eq!(ips, [Some("127.0.0.1".to_owned())]);
}

#[tokio::test]
async fn an_overlong_email_is_refused_before_it_is_stored_or_counted() {
    let app = spawn_app().await;
    let long = format!("{}@example.com", "a".repeat(300));
    let (status, _, _) = sign_in(&app, &long, "whatever it is", None).await;
    assert_eq!(status, 401);
    let rows: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from audit_log"),
        fetch_one
    )
    .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(app.services.sign_ins.keys(), 0);
}

async fn setup_call(app: &TestApp, token: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/setup"))
        .form(&[
            ("token", token),
            ("email", email),
            ("name", "First Admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_setup_link_makes_one_first_admin_and_signs_them_in() {
    let app = spawn_app().await;
    let token = backend::accounts::setup::issue(app.store()).await.unwrap();
    // The page asks before it shows the form.
    let usable = |token: String| {
        let app = &app;
        async move {
            let response = app
                .call_fn("auth/setup/check", None, &format!("token={token}"))
                .await;
            assert_eq!(response.status(), 200);
            response.json::<bool>().await.unwrap()
        }
    };
    assert!(usable(token.clone()).await);
    assert!(!usable("not-the-token".to_owned()).await);
    let wrong = setup_call(&app, "not-the-token", "x@example.com").await;
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.unwrap();
    assert!(
        body["Invalid"].as_str().unwrap().contains("not valid"),
        "{body}"
    );

    // A typo does not burn the link.
    let typo = setup_call(&app, &token, "not an email").await;
    assert_eq!(typo.status(), 400);
    let ok = setup_call(&app, &token, "first@example.com").await;
    assert_eq!(ok.status(), 200);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    let who = me(&app, &cookie_value(&cookie)).await;
    assert_eq!(
        (who["email"].as_str(), who["role"].as_str()),
        (Some("first@example.com"), Some("admin"))
    );

    let again = setup_call(&app, &token, "second@example.com").await;
    assert_eq!(again.status(), 400, "single use");
    assert!(!usable(token.clone()).await, "a used link says so at once");
    let admins: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from users"),
        fetch_one
    )
    .unwrap();
    assert_eq!(admins, 1);
    // Once accounts exist, even a fresh link is refused.
    let late = backend::accounts::setup::issue(app.store()).await.unwrap();
    assert!(!usable(late.clone()).await);
    assert_eq!(
        setup_call(&app, &late, "third@example.com").await.status(),
        400
    );
}

#[tokio::test]
async fn expired_sessions_are_deleted() {
    let app = spawn_app().await;
    let cookie = app.signed_in("ana@example.com", Role::Agent).await;
    let live = cookie.split_once('=').unwrap().1.to_owned();
    // One live session, and one that expired long ago, saved as the store saves one.
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let sessions = baton::sessions::Sessions::new(&app.services.db).unwrap();
    let old = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
    };
    sessions.save(&old).await.unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel.cancel();
    baton::startup::delete_expired_sessions(app.services.clone(), sessions, cancel).await;
    let ids: Vec<String> = crate::sql!(
        app,
        sqlx::query_scalar("select id from tower_sessions"),
        fetch_all
    )
    .unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_ne!(ids[0], old.id.to_string());
    assert_eq!(
        me(&app, &live).await["email"],
        "ana@example.com",
        "the live one still works"
    );
}

#[tokio::test]
async fn guessing_the_current_password_from_an_open_session_is_limited() {
    let app = spawn_app().await;
    let cookie = app.signed_in("ana@example.com", Role::Agent).await;
    // A too-short new password is no guess, and does not count.
    for _ in 0..10 {
        let (status, _) = app
            .call_form(
                "profile/password",
                &cookie,
                &[("current", PASSWORD), ("new_password", "short")],
            )
            .await;
        assert_eq!(status, 400);
    }
    for i in 0..5 {
        let guess = format!("guess number {i}");
        let (status, _) = app
            .call_form(
                "profile/password",
                &cookie,
                &[
                    ("current", &guess),
                    ("new_password", "a brand new password"),
                ],
            )
            .await;
        assert_eq!(status, 400);
    }
    let (status, body) = app
        .call_form(
            "profile/password",
            &cookie,
            &[
                ("current", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(status, 429, "{body}");
}
