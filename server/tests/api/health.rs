use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_is_ok_while_the_database_answers() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_with_retry_after_when_the_database_is_gone() {
    let app = spawn_app().await;
    // Closing the pool the server shares makes every query fail, like a lost volume.
    app.services.db.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "the database is not reachable");
    // Liveness is unaffected: the process itself is fine.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn migrations_ran_and_the_file_uses_wal() {
    let app = spawn_app().await;
    assert!(
        app.db_path.is_file(),
        "database file and folder are created"
    );
    let mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let settings: i64 = sqlx::query_scalar("select count(*) from settings")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(settings, 0, "the settings table exists and starts empty");
}

#[tokio::test]
async fn graceful_shutdown_returns_cleanly() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let address = app.address.clone();
    app.shutdown().await.expect("clean shutdown");
    let after = crate::helpers::http()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "nothing listens after shutdown");
}
