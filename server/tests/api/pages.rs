use crate::helpers::{SITE_CSS, spawn_app};

#[tokio::test]
async fn the_home_page_sends_anonymous_visitors_to_sign_in() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login");
    let login = app.get("/login").await;
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(
        html.contains("Sign in") && html.contains("name=\"password\""),
        "{html}"
    );
}

#[tokio::test]
async fn the_home_page_sends_signed_in_people_to_the_inbox() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.get_as(&cookie, "/").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/inbox");
}

#[tokio::test]
async fn status_page_is_server_rendered_with_live_status() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.get_as(&cookie, "/status").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Baton is running"), "{html}");
    assert!(html.contains("Signed in as"), "{html}");
    // The status card is resolved on the server, so the first paint has real data.
    assert!(html.contains("reachable, schema"), "{html}");
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    // The page loads the hydration bundle under the project's output name.
    assert!(html.contains("/pkg/baton.js"), "{html}");
    assert!(html.contains("/pkg/baton.css"), "{html}");
}

#[tokio::test]
async fn unknown_page_is_a_real_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn an_unknown_conversation_is_a_real_404() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.get_as(&cookie, "/inbox/tkt_00000000000000000000").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("No such conversation"), "{html}");
    // The workspace around it is still there: the list and the way back.
    assert!(html.contains("data-testid=\"list-pane\""), "{html}");
}

#[tokio::test]
async fn site_assets_are_served_from_the_site_root() {
    let app = spawn_app().await;
    let response = app.get("/pkg/baton.css").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(response.text().await.unwrap(), SITE_CSS);
    // A missing asset is a 404, not the HTML of some page served as CSS.
    assert_eq!(app.get("/pkg/missing.wasm").await.status(), 404);
}

#[tokio::test]
async fn path_traversal_does_not_leave_the_site_root() {
    let app = spawn_app().await;
    std::fs::write(app.site_root.join("../secret.txt"), "secret").unwrap();
    for path in [
        "/../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
    ] {
        let response = app.get(path).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(!body.contains("secret"), "{path} leaked a file: {status}");
    }
}

#[tokio::test]
async fn signed_in_people_skip_the_sign_in_page() {
    let app = spawn_app().await;
    let cookie = app
        .signed_in("ana@example.com", backend::users::Role::Agent)
        .await;
    let response = app.get_as(&cookie, "/login").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/inbox");
}
