use crate::helpers::spawn_app;

#[tokio::test]
async fn the_botpress_api_description_is_served_and_stable() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 5, "{paths:?}");
    // Any change to the wire contract shows up here for review.
    insta::assert_json_snapshot!("openapi", doc);
}
