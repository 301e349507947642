//! Limits with clear errors: a Botpress connection's request rate. (Body sizes are in
//! `botpress_inbound`, attachments in `attachments`, websocket frames in `realtime`.)

use serde_json::json;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_flooding_bot_gets_429_with_retry_after_and_others_are_unaffected() {
    let app = spawn_app_with(|c| {
        c.botpress_rate_per_minute = 60;
        c.botpress_burst = 5;
    })
    .await;
    let noisy = app.connection("noisy", false).await;
    let quiet = app.connection("quiet", false).await;
    let ping = json!({"type": "ping"});
    // The burst passes.
    for i in 0..5 {
        let r = app.botpress_call(&noisy, "ping", &ping).await;
        assert_eq!(r.status(), 200, "call {i} of the burst");
    }
    let refused = app.botpress_call(&noisy, "ping", &ping).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("too many requests"), "{message}");
    // Another bot keeps its own allowance; a wrong token is still just a 404.
    assert_eq!(app.botpress_call(&quiet, "ping", &ping).await.status(), 200);
    let stranger = app
        .client
        .post(app.url("/botpress/not-a-token/ping"))
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);
    // A second later the sustained rate lets one more through.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.botpress_call(&noisy, "ping", &ping).await.status(), 200);
}
