use crate::helpers::spawn_app;

#[tokio::test]
async fn status_server_fn_reports_version_schema_and_database_time() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.call_server_fn("status", Some(&cookie)).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(body["migrations"], applied);
    assert!(body["schema_version"].as_i64().unwrap() > 0);
    let now: String = sqlx::query_scalar("select datetime('now')")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // Same day at least: the value comes from the live database, not a constant.
    assert_eq!(body["database_time"].as_str().unwrap()[..10], now[..10]);
}

#[tokio::test]
async fn server_functions_refuse_anonymous_callers_with_401() {
    let app = spawn_app().await;
    let response = app.call_server_fn("status", None).await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!("Unauthorized"));
}

#[tokio::test]
async fn a_failing_database_gives_an_error_without_internals() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    app.db.close().await;
    let response = app.call_server_fn("status", Some(&cookie)).await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap().to_lowercase();
    for internal in ["pool", "sqlx", "sqlite", "closed"] {
        assert!(!text.contains(internal), "{text}");
    }
}

#[tokio::test]
async fn malformed_server_function_calls_are_400_not_500() {
    let app = spawn_app().await;
    for body in ["email=ana@example.com", "garbage%%%", ""] {
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body:?}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert!(error["Transport"].as_str().is_some(), "{error}");
    }
}
