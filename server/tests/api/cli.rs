//! `baton connection …` against the database of a running server.

use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

async fn ping(app: &TestApp, endpoint: &str) -> u16 {
    app.client
        .post(format!("{endpoint}/ping"))
        .json(&json!({"type": "ping"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn create_prints_the_endpoint_last_and_the_running_server_accepts_it() {
    let app = spawn_app().await;
    let (ok, out, err) = app
        .cli(
            &[
                "connection",
                "create",
                "--name",
                "Support bot",
                "--webhook-url",
                "https://webhook.botpress.cloud/3f0e-secret",
                "--botpress-bot-id",
                "bot_123",
                "--botpress-token-stdin",
            ],
            Some("bp_pat_secret\n"),
        )
        .await;
    assert!(ok, "{err}");
    let endpoint = out.lines().last().unwrap().to_owned();
    assert!(
        endpoint.starts_with(&format!("{}/botpress/", app.address)),
        "{out}"
    );
    assert!(out.contains("Botpress API credentials: set"), "{out}");
    assert!(!out.contains("bp_pat_secret"), "the token is never echoed");
    assert_eq!(ping(&app, &endpoint).await, 200);

    let (ok, list, _) = app.cli(&["connection", "list"], None).await;
    assert!(ok);
    assert!(
        list.contains("Support bot") && list.contains(&endpoint),
        "{list}"
    );
    assert!(
        !list.contains("webhook.botpress.cloud"),
        "the webhook URL stays secret: {list}"
    );

    let (ok, rotated, _) = app
        .cli(&["connection", "rotate-token", "Support bot"], None)
        .await;
    assert!(ok);
    let new_endpoint = rotated.lines().last().unwrap();
    assert_ne!(new_endpoint, endpoint);
    assert_eq!(
        ping(&app, &endpoint).await,
        404,
        "the old URL stops working at once"
    );
    assert_eq!(ping(&app, new_endpoint).await, 200);
}

#[tokio::test]
async fn bad_connection_input_is_a_clear_error() {
    let app = spawn_app().await;
    let (ok, _, err) = app
        .cli(
            &[
                "connection",
                "create",
                "--name",
                "x",
                "--webhook-url",
                "not a url",
            ],
            None,
        )
        .await;
    assert!(!ok);
    assert!(err.contains("webhook URL"), "{err}");
    let (ok, _, err) = app
        .cli(&["connection", "rotate-token", "nobody"], None)
        .await;
    assert!(!ok);
    assert!(err.contains("connection not found"), "{err}");
    let args = [
        "connection",
        "create",
        "--name",
        "dup",
        "--webhook-url",
        "https://w.example/1",
    ];
    assert!(app.cli(&args, None).await.0);
    let (ok, _, err) = app.cli(&args, None).await;
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
}

#[tokio::test]
async fn set_api_stores_credentials_read_from_stdin() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let (ok, out, err) = app
        .cli(
            &[
                "connection",
                "set-api",
                "support",
                "--botpress-bot-id",
                "bot_9",
                "--botpress-token-stdin",
            ],
            Some("bp_pat_new"),
        )
        .await;
    assert!(ok, "{err}");
    assert!(out.contains("credentials set"), "{out}");
    let secrets = backend::connections::secrets(app.store(), conn.id)
        .await
        .unwrap();
    assert_eq!(secrets.api_credentials(), Some(("bot_9", "bp_pat_new")));
}

#[tokio::test]
async fn set_end_notice_changes_what_closes_a_ticket() {
    let app = spawn_app().await;
    let conn = app.connection("support", false).await;
    let (ok, _, err) = app
        .cli(
            &["connection", "set-end-notice", "support", "Bye for now."],
            None,
        )
        .await;
    assert!(ok, "{err}");
    let c = backend::connections::get(app.store(), conn.id)
        .await
        .unwrap();
    assert_eq!(c.end_notice_text, "Bye for now.");
    let (ok, _, err) = app
        .cli(&["connection", "set-end-notice", "support", "  "], None)
        .await;
    assert!(!ok);
    assert!(err.contains("1 to 1000 characters"), "{err}");
}
