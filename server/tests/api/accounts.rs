//! Accounts through the CLI and the domain: passwords, deactivation, API tokens.

use crate::helpers::{TestApp, by, spawn_app};

async fn create(app: &TestApp, email: &str, role: &str) -> i64 {
    let (ok, out, err) = app
        .cli(
            &[
                "user",
                "create",
                "--email",
                email,
                "--name",
                "Someone",
                "--role",
                role,
                "--password-stdin",
            ],
            Some("a long enough password\n"),
        )
        .await;
    assert!(ok, "{err}");
    out.trim()
        .parse()
        .expect("the last line is the new user's id")
}

#[tokio::test]
async fn user_create_prints_the_id_and_the_password_works() {
    let app = spawn_app().await;
    let id = create(&app, "ana@example.com", "agent").await;
    let user = backend::users::get(app.store(), id).await.unwrap();
    assert_eq!(
        (user.email.as_str(), user.role.as_str()),
        ("ana@example.com", "agent")
    );
    let ok = backend::accounts::authenticate(
        app.store(),
        "ana@example.com",
        "a long enough password".into(),
    )
    .await
    .unwrap();
    assert_eq!(ok.map(|c| c.user.id), Some(id));
    for (email, password) in [
        ("ana@example.com", "the wrong password"),
        ("nobody@example.com", "a long enough password"),
    ] {
        let none = backend::accounts::authenticate(app.store(), email, password.into())
            .await
            .unwrap();
        assert!(none.is_none(), "{email}");
    }
    let hash: String = crate::sql!(
        app,
        sqlx::query_scalar("select password_hash from users where id = $1").bind(id),
        fetch_one
    )
    .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("a long enough password"));
    let action: String = crate::sql!(
        app,
        sqlx::query_scalar("select action from audit_log"),
        fetch_one
    )
    .unwrap();
    assert_eq!(action, "user.create");
}

#[tokio::test]
async fn user_create_refuses_bad_input_clearly() {
    let app = spawn_app().await;
    let (ok, _, err) = app
        .cli(
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--name",
                "A",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("short"),
        )
        .await;
    assert!(!ok);
    assert!(err.contains("at least 10 characters"), "{err}");
    let (ok, _, err) = app
        .cli(
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--name",
                "A",
                "--role",
                "boss",
                "--password-stdin",
            ],
            Some("long enough password"),
        )
        .await;
    assert!(!ok);
    assert!(err.contains("boss"), "{err}");
    create(&app, "a@example.com", "agent").await;
    let (ok, _, err) = app
        .cli(
            &[
                "user",
                "create",
                "--email",
                "A@example.com",
                "--name",
                "A",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("long enough password"),
        )
        .await;
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
}

#[tokio::test]
async fn deactivation_ends_tokens_requeues_tickets_and_spares_the_last_admin() {
    let app = spawn_app().await;
    let admin = create(&app, "admin@example.com", "admin").await;
    let agent = create(&app, "ana@example.com", "agent").await;
    let (ok, token, _) = app
        .cli(
            &[
                "token",
                "create",
                "--email",
                "ana@example.com",
                "--label",
                "script",
            ],
            None,
        )
        .await;
    assert!(ok);
    let token = token.trim().to_owned();
    assert!(token.starts_with("baton_"));
    let who = backend::accounts::authenticate_token(app.store(), &token)
        .await
        .unwrap();
    assert_eq!(who.map(|u| u.id), Some(agent));

    let conn = app.connection("support", false).await;
    let remote = app.escalate(&conn, "Help").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    backend::tickets::assign(&app.services, ticket, agent, &by(&app, agent).await)
        .await
        .unwrap();

    let (ok, out, err) = app
        .cli(&["user", "deactivate", "--email", "ana@example.com"], None)
        .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("1 open ticket(s) returned to the queue"),
        "{out}"
    );
    let t = backend::tickets::get(app.store(), ticket).await.unwrap();
    assert_eq!((t.status.as_str(), t.assignee_id), ("queued", None));
    assert!(
        backend::accounts::authenticate_token(app.store(), &token)
            .await
            .unwrap()
            .is_none()
    );
    let signed_in = backend::accounts::authenticate(
        app.store(),
        "ana@example.com",
        "a long enough password".into(),
    )
    .await
    .unwrap();
    assert!(signed_in.is_none(), "a deactivated account cannot sign in");

    let (ok, _, err) = app
        .cli(
            &["user", "deactivate", "--email", "admin@example.com"],
            None,
        )
        .await;
    assert!(!ok);
    assert!(err.contains("last active admin"), "{err}");
    assert!(
        backend::users::get(app.store(), admin)
            .await
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn a_password_change_voids_every_token_and_revocation_is_per_token() {
    let app = spawn_app().await;
    let id = create(&app, "ana@example.com", "agent").await;
    let (first_id, first) = backend::accounts::create_token(app.store(), id, "one")
        .await
        .unwrap();
    let (_, second) = backend::accounts::create_token(app.store(), id, "two")
        .await
        .unwrap();
    backend::accounts::revoke_token(app.store(), id, first_id)
        .await
        .unwrap();
    assert!(
        backend::accounts::authenticate_token(app.store(), &first)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        backend::accounts::authenticate_token(app.store(), &second)
            .await
            .unwrap()
            .is_some()
    );
    let listed = backend::accounts::list_tokens(app.store(), id)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        ["two"]
    );

    backend::accounts::set_password(app.store(), id, "another long password".into())
        .await
        .unwrap();
    assert!(
        backend::accounts::authenticate_token(app.store(), &second)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        backend::accounts::list_tokens(app.store(), id)
            .await
            .unwrap()
            .is_empty()
    );
    let stored: i64 = crate::sql!(
        app,
        sqlx::query_scalar("select count(*) from api_tokens where token_sha256 = $1")
            .bind(backend::ids::token_digest(&second)),
        fetch_one
    )
    .unwrap();
    assert_eq!(stored, 1, "only the hash is stored");
}

#[tokio::test]
async fn reactivating_an_account_voids_links_issued_before() {
    let app = spawn_app().await;
    let ana = app.agent("ana@example.com", "Ana").await;
    let link = backend::accounts::links::issue(&*app.services.store, ana.id)
        .await
        .unwrap();
    assert!(
        backend::accounts::links::peek(&*app.services.store, &link)
            .await
            .is_ok()
    );
    backend::accounts::deactivate(&app.services, ana.id)
        .await
        .unwrap();
    backend::accounts::reactivate(app.store(), ana.id)
        .await
        .unwrap();
    assert!(
        backend::accounts::links::peek(&*app.services.store, &link)
            .await
            .is_err(),
        "a link from before the deactivation no longer works"
    );
    let fresh = backend::accounts::links::issue(&*app.services.store, ana.id)
        .await
        .unwrap();
    assert!(
        backend::accounts::links::peek(&*app.services.store, &fresh)
            .await
            .is_ok()
    );
}
