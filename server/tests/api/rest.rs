//! The REST API's bearer-token authentication.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

async fn me(app: &TestApp, authorization: Option<&str>) -> (u16, Value, Option<String>) {
    let mut request = app.client.get(app.url("/api/v1/me"));
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), challenge)
}

#[tokio::test]
async fn a_token_identifies_its_account_and_nothing_else_does() {
    let app = spawn_app().await;
    let ana = backend::accounts::create_user(
        app.store(),
        "ana@example.com",
        "Ana",
        backend::users::Role::Agent,
        Some("a long enough password".into()),
    )
    .await
    .unwrap();
    let (token_id, token) = backend::accounts::create_token(app.store(), ana.id, "script")
        .await
        .unwrap();

    let (status, body, _) = me(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "ana@example.com");
    assert_eq!(body["public_id"], ana.public_id.as_str());
    assert!(body.get("password_hash").is_none());

    for (auth, why) in [
        (None, "an API token is required"),
        (
            Some("Basic YWJjOmRlZg==".to_owned()),
            "Authorization: Bearer",
        ),
        (Some("Bearer ".to_owned()), "Authorization: Bearer"),
        (Some(format!("Bearer {token}x")), "not valid"),
    ] {
        let (status, body, challenge) = me(&app, auth.as_deref()).await;
        assert_eq!(status, 401, "{auth:?}");
        assert!(body["error"].as_str().unwrap().contains(why), "{body}");
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }

    // Revocation and deactivation take effect on the next request.
    let (_, second) = backend::accounts::create_token(app.store(), ana.id, "other")
        .await
        .unwrap();
    backend::accounts::revoke_token(app.store(), ana.id, token_id)
        .await
        .unwrap();
    assert_eq!(me(&app, Some(&format!("Bearer {token}"))).await.0, 401);
    assert_eq!(me(&app, Some(&format!("bearer {second}"))).await.0, 200);
    backend::accounts::deactivate(&app.services, ana.id)
        .await
        .unwrap();
    assert_eq!(me(&app, Some(&format!("Bearer {second}"))).await.0, 401);
}
