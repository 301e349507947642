//! Security headers, the page's CSP, and the cross-site request check.

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_carry_a_nonce_csp_that_matches_their_inline_scripts() {
    let app = spawn_app().await;
    let response = app.get("/login").await;
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        html.matches("<script").count(),
        "every inline script carries this response's nonce:\n{html}"
    );
    let other = app.get("/login").await.headers()["content-security-policy"].clone();
    assert_ne!(other.to_str().unwrap(), csp, "a fresh nonce per response");
}

#[tokio::test]
async fn other_responses_get_a_deny_all_policy() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = spawn_app().await;
    let call = |headers: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .post(app.url("/api/status"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("");
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    let refused = [
        vec![("origin", "https://evil.example".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![
            ("sec-fetch-site", "same-site".to_owned()),
            ("origin", app.address.clone()),
        ],
    ];
    for headers in refused {
        let response = call(headers.clone()).await.unwrap();
        assert_eq!(response.status(), 403, "{headers:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "cross-site request refused");
    }
    // Same-site requests get through to the server function, which then wants a
    // signed-in caller: 401, not the CSRF check's 403.
    let allowed = [
        vec![],
        vec![("origin", app.address.clone())],
        vec![
            ("sec-fetch-site", "same-origin".to_owned()),
            ("origin", app.address.clone()),
        ],
    ];
    for headers in allowed {
        let response = call(headers.clone()).await.unwrap();
        assert_eq!(response.status(), 401, "{headers:?}");
    }
    // Reading is never refused: a link from elsewhere must open the page.
    let page = app
        .client
        .get(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn https_deployments_send_strict_transport_security() {
    let plain = spawn_app().await;
    let response = plain.get("/healthz").await;
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    drop(plain);
    let tls = spawn_app_with(|c| c.public_url = Some("https://baton.example.com".into())).await;
    let response = tls.get("/healthz").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let page = tls.get("/login").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_unless_allowed() {
    use backend::users::Role;
    let app = spawn_app_with(|c| c.allow_private_webhooks = false).await;
    app.accept_webhooks().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;

    // Typed by an admin: refused at once, saying how to allow it.
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:22/",
        "http://[::1]/hook",
    ] {
        let (status, body) = app
            .call_form(
                "admin/connections/create",
                &admin,
                &[("name", "sneaky"), ("webhook_url", url)],
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["Invalid"]
                .as_str()
                .unwrap()
                .contains("--allow-private-webhooks"),
            "{body}"
        );
    }
    let (status, _) = app
        .call_form(
            "admin/alerts/save",
            &admin,
            &[("minutes", "5"), ("webhook_url", "http://10.0.0.1/alerts")],
        )
        .await;
    assert_eq!(status, 400);

    // One stored before (the fake Botpress, on 127.0.0.1): "Test connection" says
    // why, without the system's error text, and no call reaches it.
    let conn = app.connection("local", false).await;
    let (status, tested) = app
        .call_form(
            "admin/connections/test",
            &admin,
            &[("id", &conn.id.to_string())],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(tested["ok"], false);
    assert!(
        tested["message"]
            .as_str()
            .unwrap()
            .contains("--allow-private-webhooks"),
        "{tested}"
    );
    let ticket = crate::helpers::live_ticket(&app, &conn, "Local").await;
    let token = crate::helpers::token(&app, "agent@example.com", Role::Agent)
        .await
        .token;
    let (status, _) = crate::helpers::call(
        &app,
        &token,
        "POST",
        &format!("/api/v1/tickets/{ticket}/assign"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let reason: String = crate::helpers::eventually(5, "the call is refused", || async {
        crate::sql!(
            app,
            sqlx::query_scalar::<_, Option<String>>("select last_error from outbox"),
            fetch_one
        )
        .ok()
        .flatten()
    })
    .await;
    assert!(reason.contains("--allow-private-webhooks"), "{reason}");
    assert!(
        app.webhook_calls(&format!("{}/agent-assigned", conn.webhook_path))
            .await
            .is_empty()
    );
}
