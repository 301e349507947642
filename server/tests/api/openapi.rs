use crate::helpers::spawn_app;

#[tokio::test]
async fn the_api_description_covers_every_route_and_is_stable() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let botpress = paths.keys().filter(|p| p.starts_with("/botpress/")).count();
    // plus/hitl-api's five and Baton's own integration's six.
    assert_eq!(botpress, 11, "{:?}", paths.keys());
    // Every registered REST route is described, with the method it is served on.
    for route in baton::http::api::routes().list {
        let method = route.method.to_ascii_lowercase();
        assert!(
            paths
                .get(&route.path)
                .is_some_and(|p| p.get(&method).is_some()),
            "{} {} is not in the OpenAPI description",
            route.method,
            route.path
        );
    }
    // Any change to the wire contract shows up here for review.
    insta::assert_json_snapshot!("openapi", doc);
}
