//! Customers' media are copied into Baton when they arrive, so agents load them from
//! Baton only; a copy that cannot be made stays a link, never an inline load from
//! another host. The answer to Botpress never waits for the copy.

use std::time::Duration;

use backend::users::Role;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_with};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a small picture of a receipt";

async fn media_server() -> MockServer {
    let media = MockServer::start().await;
    let png = |delay: u64| {
        ResponseTemplate::new(200)
            .set_body_bytes(PNG)
            .insert_header("content-type", "image/png")
            .set_delay(Duration::from_millis(delay))
    };
    Mock::given(method("GET"))
        .and(path("/media/receipt.png"))
        .respond_with(png(1_500))
        .mount(&media)
        .await;
    Mock::given(method("GET"))
        .and(path("/media/page.png"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>not an image</html>", "text/html"),
        )
        .mount(&media)
        .await;
    Mock::given(method("GET"))
        .and(path("/media/huge.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(vec![0u8; 3 * 1024 * 1024])
                .insert_header("content-type", "image/png"),
        )
        .mount(&media)
        .await;
    media
}

/// A ticket whose customer sent an image at `url`, just answered to Botpress.
async fn image_from_customer(app: &TestApp, url: &str) -> String {
    let conn = app.connection("shop", false).await;
    let customer = app.remote_user(&conn, "Dana", "dana@example.org").await;
    let remote = app.escalate(&conn, "Receipt").await;
    app.user_says(
        &conn,
        &remote,
        &customer,
        json!({"type": "image", "imageUrl": url, "userId": "user_1"}),
    )
    .await;
    remote
}

async fn media_state(app: &TestApp) -> (String, Option<String>) {
    crate::sql!(
        app,
        sqlx::query_as("select state, error from media"),
        fetch_one
    )
    .unwrap()
}

/// The conversation page's HTML and its Content-Security-Policy.
async fn page(app: &TestApp, cookie: &str, ticket: &str) -> (String, String) {
    let response = app.get_as(cookie, &format!("/inbox/{ticket}")).await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    (response.text().await.unwrap(), csp)
}

/// The last message's payload as the conversation page gets it.
async fn shown_payload(app: &TestApp, cookie: &str, ticket: &str) -> Value {
    let data: Value = app
        .call_fn("inbox/ticket", Some(cookie), &format!("id={ticket}"))
        .await
        .json()
        .await
        .unwrap();
    let last = data["messages"].as_array().unwrap().last().unwrap().clone();
    serde_json::from_str(last["payload"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn customer_media_are_copied_and_served_from_baton() {
    let app = spawn_app().await;
    let media = media_server().await;
    let url = format!("{}/media/receipt.png", media.uri());
    let ticket = image_from_customer(&app, &url).await;
    // Botpress had its answer while the host was still sending the file.
    assert_eq!(media_state(&app).await.0, "pending");
    let cookie = app.signed_in("ana@example.com", Role::Agent).await;
    eventually(10, "the copy", || async {
        (media_state(&app).await.0 == "stored").then_some(())
    })
    .await;

    let payload = shown_payload(&app, &cookie, &ticket).await;
    let local = payload["imageUrl"].as_str().unwrap().to_owned();
    assert!(local.starts_with("/files/"), "{payload}");
    let served = app.get(&local).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    // The page loads it from Baton, and names no other host.
    let (html, csp) = page(&app, &cookie, &ticket).await;
    assert!(html.contains(&local), "the copy is shown");
    assert!(!html.contains(&media.uri()), "the original host is not");
    assert!(
        csp.contains("img-src 'self' data:;") && csp.contains("media-src 'self';"),
        "{csp}"
    );
}

#[tokio::test]
async fn media_that_cannot_be_copied_stay_links() {
    for (file, why) in [
        ("page.png", "\"text/html\" cannot be sent"),
        ("missing.png", "404"),
        ("huge.png", "larger than the attachment limit"),
    ] {
        let app = spawn_app().await;
        let media = media_server().await;
        let url = format!("{}/media/{file}", media.uri());
        let ticket = image_from_customer(&app, &url).await;
        let cookie = app.signed_in("ana@example.com", Role::Agent).await;
        let (_, error) = eventually(10, "the attempt", || async {
            let state = media_state(&app).await;
            (state.0 == "failed").then_some(state)
        })
        .await;
        let error = error.unwrap_or_default();
        assert!(error.contains(why), "{file}: {error}");
        // The original link, as a link: nothing loads from that host by itself.
        let payload = shown_payload(&app, &cookie, &ticket).await;
        assert_eq!(payload["imageUrl"], url.as_str());
        let (html, _) = page(&app, &cookie, &ticket).await;
        assert!(html.contains("Open the image (on another site)"), "{file}");
        assert!(
            !html.contains(&format!("src=\"{url}\"")),
            "{file}: no inline load"
        );
    }
}

#[tokio::test]
async fn on_the_internet_only_https_links_to_public_hosts_are_fetched() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = false).await;
    let media = media_server().await;
    let url = format!("{}/media/receipt.png", media.uri());
    image_from_customer(&app, &url).await;
    let (_, error) = eventually(10, "the refusal", || async {
        let state = media_state(&app).await;
        (state.0 == "failed").then_some(state)
    })
    .await;
    assert!(error.unwrap_or_default().contains("https"));
    assert!(
        media
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn a_path_that_only_starts_like_our_files_is_never_loaded_inline() {
    let app = spawn_app().await;
    let conn = app.connection("shop", false).await;
    let ticket = app.escalate(&conn, "Receipt").await;
    let cookie = app.signed_in("ana@example.com", Role::Agent).await;
    // Resolved by the browser, this is the admins' CSV export: as an inline image,
    // every viewer's browser would fetch it with their session.
    let sneaky = "/files/../api/v1/tickets/export.csv";
    app.user_says(
        &conn,
        &ticket,
        "BOT",
        json!({"type": "image", "imageUrl": sneaky}),
    )
    .await;
    assert_eq!(
        shown_payload(&app, &cookie, &ticket).await["imageUrl"],
        sneaky
    );
    // The same behind our public address: it stays an absolute link, never made local.
    let absolute = format!("{}{sneaky}", app.address);
    app.user_says(
        &conn,
        &ticket,
        "BOT",
        json!({"type": "image", "imageUrl": absolute}),
    )
    .await;
    assert_eq!(
        shown_payload(&app, &cookie, &ticket).await["imageUrl"],
        absolute.as_str()
    );

    let (html, _) = page(&app, &cookie, &ticket).await;
    for url in [sneaky, absolute.as_str()] {
        assert!(!html.contains(&format!("src=\"{url}\"")), "{url}: {html}");
    }
    assert!(
        html.contains("Open the image (on another site)"),
        "the absolute one is a plain link: {html}"
    );
    assert!(!html.contains(&format!("href=\"{sneaky}\"")), "{html}");
}
