//! Canned replies over REST: personal and shared, who may change which, bad input.

use backend::users::Role;
use serde_json::json;

use crate::helpers::{call, spawn_app, token};

#[tokio::test]
async fn agents_keep_their_own_replies_and_admins_the_shared_ones() {
    let app = spawn_app().await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let ben = token(&app, "ben@example.com", Role::Agent).await;
    let boss = token(&app, "boss@example.com", Role::Admin).await;
    let path = "/api/v1/canned-replies";

    let (status, mine) = call(
        &app,
        &ana.token,
        "POST",
        path,
        Some(json!({"shortcut": "/thanks", "body": " Thank you, {{customer.name}}! "})),
    )
    .await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["shortcut"], "thanks");
    assert_eq!(mine["body"], "Thank you, {{customer.name}}!");
    assert_eq!(mine["shared"], false);

    // An agent may not make a team reply; an admin may, and it is audited.
    let shared = json!({"shortcut": "refund", "body": "{{agent.name}} here: refunds take 5 days.", "shared": true});
    let (status, body) = call(&app, &ana.token, "POST", path, Some(shared.clone())).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("only admins"));
    let (status, team) = call(&app, &boss.token, "POST", path, Some(shared.clone())).await;
    assert_eq!(status, 201, "{team}");
    let (status, body) = call(&app, &boss.token, "POST", path, Some(shared)).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("/refund"),
        "{body}"
    );

    // Each sees their own, then the shared ones; never a colleague's own.
    let (_, list) = call(&app, &ana.token, "GET", path, None).await;
    let shortcuts: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, ["thanks", "refund"]);
    let (_, list) = call(&app, &ben.token, "GET", path, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["shared"], true);

    // A colleague's own reply does not exist for Ben; the shared one is the admins'.
    let ana_reply = format!("{path}/{}", mine["id"]);
    let team_reply = format!("{path}/{}", team["id"]);
    let (status, _) = call(
        &app,
        &ben.token,
        "PATCH",
        &ana_reply,
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, &ben.token, "DELETE", &ana_reply, None).await;
    assert_eq!(status, 404);
    let (status, body) = call(&app, &ben.token, "DELETE", &team_reply, None).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(&app, &ben.token, "GET", &format!("{path}/abc"), None).await;
    assert_eq!(status, 405, "only PATCH and DELETE are served on a reply");

    // The owner edits; an admin edits the shared one.
    let (status, edited) = call(
        &app,
        &ana.token,
        "PATCH",
        &ana_reply,
        Some(json!({"body": "Thanks {{customer.name}}, from {{agent.name}}."})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["shortcut"], "thanks");
    assert_eq!(
        edited["body"],
        "Thanks {{customer.name}}, from {{agent.name}}."
    );
    let (status, _) = call(
        &app,
        &boss.token,
        "PATCH",
        &team_reply,
        Some(json!({"shortcut": "refunds"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, &ana.token, "DELETE", &ana_reply, None).await;
    assert_eq!(status, 204);
    let (_, list) = call(&app, &ana.token, "GET", path, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["shortcut"], "refunds");

    let audit = backend::audit::list(
        app.store(),
        &backend::audit::Filter {
            action: "canned".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["canned.update", "canned.create"],
        "only shared replies are audited"
    );
}

#[tokio::test]
async fn bad_replies_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let ana = token(&app, "ana@example.com", Role::Agent).await;
    let path = "/api/v1/canned-replies";
    for (body, why) in [
        (
            json!({"shortcut": "hi", "body": "Hello {{customer.phone}}"}),
            "{{customer.phone}} is not a variable",
        ),
        (
            json!({"shortcut": "hi", "body": "Hello {{customer.name"}),
            "never closed",
        ),
        (json!({"shortcut": "hi", "body": "   "}), "empty"),
        (
            json!({"shortcut": "two words", "body": "x"}),
            "letters, digits",
        ),
        (json!({"shortcut": "", "body": "x"}), "1 to 32"),
        (
            json!({"shortcut": "hi", "body": "x".repeat(5_001)}),
            "the most is 5000",
        ),
        (json!({"shortcut": "hi"}), "body"),
        (
            json!({"shortcut": "hi", "body": "x", "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, answer) = call(&app, &ana.token, "POST", path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(why), "{body}: {error}");
    }
    // A 10 MB reply is refused before it is read whole, with a message.
    let (status, answer) = call(
        &app,
        &ana.token,
        "POST",
        path,
        Some(json!({"shortcut": "big", "body": "x".repeat(10 << 20)})),
    )
    .await;
    assert!(status == 413 || status == 400, "{status}");
    assert!(
        answer["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{answer}"
    );
    // Nothing was stored.
    let (_, list) = call(&app, &ana.token, "GET", path, None).await;
    assert_eq!(list, json!([]));
    // Shortcuts are unique in any case.
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        path,
        Some(json!({"shortcut": "Hi", "body": "x"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &app,
        &ana.token,
        "POST",
        path,
        Some(json!({"shortcut": "hI", "body": "y"})),
    )
    .await;
    assert_eq!(status, 409);
}
