//! Routing: teams decide whose inbox shows a bot's tickets, and automatic
//! assignment gives them to available agents with room, each exactly once.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use backend::users::Role;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    ApiClient, Browser, PASSWORD, TestApp, TestConnection, call, eventually, spawn_app, token,
};
use crate::realtime::{Auth, Ws, next, open};

/// The ids of the tickets `status` lists for the token's owner.
async fn listed(app: &TestApp, bearer: &str, status: &str) -> Vec<String> {
    let (code, page) = call(
        app,
        bearer,
        "GET",
        &format!("/api/v1/tickets?status={status}"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{page}");
    page["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Who holds a ticket (`agt_…`), as an admin reads it.
async fn holder(app: &TestApp, admin: &ApiClient, ticket: &str) -> Option<String> {
    let (code, t) = call(
        app,
        &admin.token,
        "GET",
        &format!("/api/v1/tickets/{ticket}"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{t}");
    t["assignee_id"].as_str().map(str::to_owned)
}

async fn team(
    app: &TestApp,
    admin: &ApiClient,
    name: &str,
    agents: &[&ApiClient],
    bots: &[&TestConnection],
) -> Value {
    let body = json!({
        "name": name,
        "agent_ids": agents.iter().map(|a| a.user.public_id.clone()).collect::<Vec<_>>(),
        "connection_ids": bots.iter().map(|b| b.id).collect::<Vec<_>>(),
    });
    let (code, team) = call(app, &admin.token, "POST", "/api/v1/teams", Some(body)).await;
    assert_eq!(code, 201, "{team}");
    team
}

async fn automatic(app: &TestApp, admin: &ApiClient, bot: &TestConnection, capacity: i64) {
    let (code, routing) = call(
        app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/connections/{}/routing", bot.id),
        Some(json!({"assignment": "automatic", "default_capacity": capacity})),
    )
    .await;
    assert_eq!(code, 200, "{routing}");
    assert_eq!(routing["assignment"], "automatic");
    assert_eq!(routing["default_capacity"], capacity);
}

/// A tab for the agent, past its hello.
async fn tab(app: &TestApp, agent: &ApiClient) -> Ws {
    let mut ws = open(app, Auth::Bearer(&agent.token), None, None)
        .await
        .unwrap();
    next(&mut ws).await;
    ws
}

/// The tickets an `assigned_to_you` event named on this socket, within `within`.
async fn given_to(ws: &mut Ws, within: Duration) -> Vec<String> {
    let mut given = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == "assigned_to_you" {
                given.push(v["ticket"].as_str().unwrap().to_owned());
            }
        }
    }
    given
}

async fn set_availability(app: &TestApp, agent: &ApiClient, status: &str) {
    let response = app
        .client
        .put(app.url("/api/v1/me/availability"))
        .bearer_auth(&agent.token)
        .json(&json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The `/agent-assigned` calls the bot received: (ticket, agent), in order.
async fn assigned_calls(app: &TestApp, bot: &TestConnection) -> Vec<(String, String)> {
    app.webhook_calls(&format!("{}/agent-assigned", bot.webhook_path))
        .await
        .into_iter()
        .map(|b| {
            (
                b["remoteConversationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                b["remoteUserId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An app whose bots' webhooks answer, with an admin and two agents, Ana and Ben.
async fn cast() -> (TestApp, ApiClient, ApiClient, ApiClient) {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let ben = token(&app, "ben@example.org", Role::Agent).await;
    (app, admin, ana, ben)
}

#[tokio::test]
async fn teams_decide_whose_inbox_shows_a_bots_tickets() {
    let (app, admin, ana, ben) = cast().await;
    let billing = app.connection("billing", false).await;
    let sales = app.connection("sales", false).await;
    let refund = app.escalate(&billing, "Refund please").await;
    let pricing = app.escalate(&sales, "Pricing").await;
    assert_eq!(
        listed(&app, &ben.token, "queued").await,
        [refund.as_str(), pricing.as_str()]
    );

    let made = team(&app, &admin, "Billing", &[&ana], &[&billing]).await;
    assert_eq!(made["name"], "Billing");
    assert_eq!(made["agent_ids"], json!([ana.user.public_id]));
    assert_eq!(made["connection_ids"], json!([billing.id]));

    // Ben is not in the team that serves billing: its tickets are not his to see.
    assert_eq!(listed(&app, &ben.token, "queued").await, [pricing.as_str()]);
    assert_eq!(listed(&app, &ben.token, "all").await, [pricing.as_str()]);
    let (code, _) = call(
        &app,
        &ben.token,
        "GET",
        &format!("/api/v1/tickets/{refund}"),
        None,
    )
    .await;
    assert_eq!(code, 404);
    let (code, _) = call(
        &app,
        &ben.token,
        "POST",
        &format!("/api/v1/tickets/{refund}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 404, "he cannot take what he cannot see");
    let (_, found) = call(&app, &ben.token, "GET", "/api/v1/search?q=refund", None).await;
    assert_eq!(found["hits"], json!([]), "nor find it");
    let counts = backend::tickets::views::counts(app.store(), ben.user.id)
        .await
        .unwrap();
    assert_eq!(counts.queued, 1);
    // Ana serves billing by her team and sales with everyone (it has no team); an
    // admin sees everything.
    assert_eq!(
        listed(&app, &ana.token, "queued").await,
        [refund.as_str(), pricing.as_str()]
    );
    assert_eq!(
        listed(&app, &admin.token, "queued").await,
        [refund.as_str(), pricing.as_str()]
    );
    let (_, found) = call(&app, &ana.token, "GET", "/api/v1/search?q=refund", None).await;
    assert_eq!(found["hits"][0]["ticket"], refund.as_str());

    // A ticket goes only to someone who can see it.
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{refund}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, refused) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{refund}/assign"),
        Some(json!({"agent_id": ben.user.public_id})),
    )
    .await;
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("do not serve"),
        "{refused}"
    );

    // Ben joins: he sees it. The team is deleted: everyone serves billing again.
    let id = made["id"].as_i64().unwrap();
    let (code, renamed) = call(
        &app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/teams/{id}"),
        Some(json!({"agent_ids": [ana.user.public_id, ben.user.public_id]})),
    )
    .await;
    assert_eq!(code, 200, "{renamed}");
    assert_eq!(renamed["name"], "Billing", "what is left out stays");
    assert_eq!(renamed["connection_ids"], json!([billing.id]));
    assert_eq!(
        listed(&app, &ben.token, "assigned").await,
        [refund.as_str()]
    );
    let (code, _) = call(
        &app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/teams/{id}"),
        Some(json!({"agent_ids": []})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(listed(&app, &ben.token, "all").await, [pricing.as_str()]);
    let (code, _) = call(
        &app,
        &admin.token,
        "DELETE",
        &format!("/api/v1/teams/{id}"),
        None,
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(
        listed(&app, &ben.token, "all").await,
        [refund.as_str(), pricing.as_str()]
    );
    let (_, teams) = call(&app, &admin.token, "GET", "/api/v1/teams", None).await;
    assert_eq!(teams, json!([]));

    assert_eq!(
        audited(&app, &admin, "team.").await,
        ["team.delete", "team.update", "team.update", "team.create"]
    );
}

/// The audit log's actions that start with `prefix`, newest first.
async fn audited(app: &TestApp, admin: &ApiClient, prefix: &str) -> Vec<String> {
    let (code, audit) = call(
        app,
        &admin.token,
        "GET",
        &format!("/api/v1/audit?action={prefix}"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{audit}");
    audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn automatic_assignment_follows_availability_and_capacity() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let ben = token(&app, "ben@example.org", Role::Agent).await;
    // Cy is online but not in the team: he is never given the bot's tickets.
    let cy = token(&app, "cy@example.org", Role::Agent).await;
    let bot = app.connection("support", false).await;
    team(&app, &admin, "Support", &[&ana, &ben], &[&bot]).await;
    let waiting = app.escalate(&bot, "waited before automatic").await;
    let (mut ana_tab, mut ben_tab, mut cy_tab) = (
        tab(&app, &ana).await,
        tab(&app, &ben).await,
        tab(&app, &cy).await,
    );
    // Manual (the default): nothing is given out.
    backend::routing::auto::route(&app.services).await.unwrap();
    assert_eq!(holder(&app, &admin, &waiting).await, None);

    // Automatic with room for one each: what waits goes out at once, then the next;
    // the third waits.
    automatic(&app, &admin, &bot, 1).await;
    let first = eventually(5, "the waiting ticket to be given", || async {
        holder(&app, &admin, &waiting).await
    })
    .await;
    let second_ticket = app.escalate(&bot, "second").await;
    let second = eventually(5, "the second ticket to be given", || async {
        holder(&app, &admin, &second_ticket).await
    })
    .await;
    let team_ids: HashSet<String> = [ana.user.public_id.clone(), ben.user.public_id.clone()].into();
    assert_eq!(
        HashSet::from([first.clone(), second.clone()]),
        team_ids,
        "one each"
    );
    let third = app.escalate(&bot, "third").await;
    assert_eq!(
        backend::routing::auto::route(&app.services)
            .await
            .unwrap()
            .given,
        0
    );
    assert_eq!(holder(&app, &admin, &third).await, None, "both are full");

    // Botpress heard it as for a manual take (once the session surely exists, as
    // always); each agent was told; the transcript says how.
    eventually(10, "Botpress to hear of both", || async {
        (assigned_calls(&app, &bot).await.len() >= 2).then_some(())
    })
    .await;
    assert_eq!(
        assigned_calls(&app, &bot).await,
        [
            (waiting.clone(), first.clone()),
            (second_ticket.clone(), second.clone())
        ]
    );
    let (ana_ticket, ben_ticket) = if first == ana.user.public_id {
        (waiting.clone(), second_ticket.clone())
    } else {
        (second_ticket.clone(), waiting.clone())
    };
    assert_eq!(
        given_to(&mut ana_tab, Duration::from_millis(300)).await,
        [ana_ticket.as_str()]
    );
    assert_eq!(
        given_to(&mut ben_tab, Duration::from_millis(300)).await,
        [ben_ticket.as_str()]
    );
    assert_eq!(
        given_to(&mut cy_tab, Duration::from_millis(100)).await,
        Vec::<String>::new()
    );
    let id = app.ticket_id(&bot, &ana_ticket).await;
    assert_eq!(
        app.activity(id).await,
        ["Assigned automatically to ana@example.org"]
    );

    // Ben steps away and frees his place: the third still waits for someone available.
    set_availability(&app, &ben, "away").await;
    let (code, _) = call(
        &app,
        &ben.token,
        "POST",
        &format!("/api/v1/tickets/{ben_ticket}/close"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        backend::routing::auto::route(&app.services)
            .await
            .unwrap()
            .given,
        0
    );
    assert_eq!(
        holder(&app, &admin, &third).await,
        None,
        "an away agent gets nothing"
    );
    // Back: it is his at once.
    set_availability(&app, &ben, "available").await;
    let got = eventually(5, "the third ticket to go to Ben", || async {
        holder(&app, &admin, &third).await
    })
    .await;
    assert_eq!(got, ben.user.public_id);

    // Ana's own capacity of two beats the default of one.
    let (code, agent) = call(
        &app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/agents/{}", ana.user.public_id),
        Some(json!({"capacity": 2})),
    )
    .await;
    assert_eq!((code, agent["capacity"].clone()), (200, json!(2)));
    let fourth = app.escalate(&bot, "fourth").await;
    let got = eventually(5, "the fourth ticket to go to Ana", || async {
        holder(&app, &admin, &fourth).await
    })
    .await;
    assert_eq!(got, ana.user.public_id);
    // Closing her tab makes her offline: nothing more for her.
    ana_tab.close(None).await.unwrap();
    drop(ana_tab);
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{fourth}/close"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    let fifth = app.escalate(&bot, "fifth").await;
    eventually(5, "Ana's tab to be gone", || async {
        app.services
            .hub
            .sockets()
            .ready()
            .iter()
            .all(|&u| u != ana.user.id)
            .then_some(())
    })
    .await;
    assert_eq!(
        backend::routing::auto::route(&app.services)
            .await
            .unwrap()
            .given,
        0
    );
    assert_eq!(holder(&app, &admin, &fifth).await, None);
    assert!(
        !listed(&app, &cy.token, "all").await.contains(&fifth),
        "Cy does not even see the team's tickets"
    );
    // Each setting and each ticket given out is in the audit log.
    assert_eq!(
        audited(&app, &admin, "connection.routing").await,
        ["connection.routing"]
    );
    assert_eq!(
        audited(&app, &admin, "user.capacity").await,
        ["user.capacity"]
    );
    assert_eq!(
        audited(&app, &admin, "ticket.route").await,
        ["ticket.route"; 4],
        "waiting, second, third and fourth"
    );
    drop((ben_tab, cy_tab));
}

#[tokio::test]
async fn a_burst_of_tickets_never_exceeds_a_capacity_or_assigns_one_twice() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let mut agents = Vec::new();
    for n in 0..3 {
        agents.push(token(&app, &format!("agent{n}@example.org"), Role::Agent).await);
    }
    let bot = app.connection("busy", false).await;
    team(
        &app,
        &admin,
        "Busy",
        &agents.iter().collect::<Vec<_>>(),
        &[&bot],
    )
    .await;
    let mut tabs = Vec::new();
    for a in &agents {
        tabs.push(tab(&app, a).await);
    }
    automatic(&app, &admin, &bot, 2).await;
    let created = futures_util::future::join_all((0..20).map(|n| {
        let (app, bot) = (&app, &bot);
        async move { app.escalate(bot, &format!("burst {n}")).await }
    }))
    .await;
    assert_eq!(created.len(), 20);
    eventually(10, "six tickets to be given out", || async {
        (assigned_calls(&app, &bot).await.len() >= 6).then_some(())
    })
    .await;
    // Every pass that may still be pending, then nothing more.
    backend::routing::auto::route(&app.services).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let calls = assigned_calls(&app, &bot).await;
    assert_eq!(calls.len(), 6, "{calls:?}");
    let tickets: HashSet<&String> = calls.iter().map(|(t, _)| t).collect();
    assert_eq!(tickets.len(), 6, "no ticket given twice");
    let mut per_agent: BTreeMap<&String, usize> = BTreeMap::new();
    for (_, agent) in &calls {
        *per_agent.entry(agent).or_default() += 1;
    }
    assert_eq!(
        per_agent.values().collect::<Vec<_>>(),
        [&2, &2, &2],
        "{per_agent:?}"
    );
    // Oldest first: the six given are the six that arrived first.
    let (_, queued) = call(
        &app,
        &admin.token,
        "GET",
        "/api/v1/tickets?status=queued&limit=200",
        None,
    )
    .await;
    assert_eq!(queued["tickets"].as_array().unwrap().len(), 14);
    drop(tabs);
}

#[tokio::test]
async fn routing_settings_refuse_bad_values_with_a_reason() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let bot = app.connection("support", false).await;
    let routing = format!("/api/v1/connections/{}/routing", bot.id);
    let (code, now) = call(&app, &admin.token, "GET", &routing, None).await;
    assert_eq!(code, 200);
    assert_eq!(now["assignment"], "manual");
    assert_eq!(now["default_capacity"], 3);
    assert_eq!(now["hours"], Value::Null);
    assert_eq!(now["queue_position_text"], Value::Null);
    for (body, says) in [
        (json!({"assignment": "sometimes"}), "unknown variant"),
        (json!({"default_capacity": 0}), "from 1 to 100"),
        (json!({"default_capacity": 101}), "from 1 to 100"),
        (json!({"hours": {}}), "time_zone"),
        (json!({"colour": "red"}), "unknown field"),
    ] {
        let (code, refused) = call(&app, &admin.token, "PATCH", &routing, Some(body.clone())).await;
        assert_eq!(code, 400, "{body} -> {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains(says),
            "{body} -> {refused}"
        );
    }
    let (code, _) = call(
        &app,
        &admin.token,
        "GET",
        "/api/v1/connections/999/routing",
        None,
    )
    .await;
    assert_eq!(code, 404);

    let agent = format!("/api/v1/agents/{}", ana.user.public_id);
    for (body, says) in [
        (json!({}), "nothing to change"),
        (json!({"capacity": 0}), "from 1 to 100"),
        (json!({"capacity": "two"}), "invalid type"),
    ] {
        let (code, refused) = call(&app, &admin.token, "PATCH", &agent, Some(body.clone())).await;
        assert_eq!(code, 400, "{body} -> {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains(says),
            "{body} -> {refused}"
        );
    }
    let (code, set) = call(
        &app,
        &admin.token,
        "PATCH",
        &agent,
        Some(json!({"capacity": null})),
    )
    .await;
    assert_eq!((code, set["capacity"].clone()), (200, Value::Null));

    for (body, code_wanted, says) in [
        (json!({"name": "  "}), 400, "needs a name"),
        (
            json!({"name": "A", "agent_ids": ["agt_nobody"]}),
            400,
            "agt_nobody",
        ),
        (json!({"name": "A", "connection_ids": [999]}), 400, "999"),
    ] {
        let (code, refused) = call(
            &app,
            &admin.token,
            "POST",
            "/api/v1/teams",
            Some(body.clone()),
        )
        .await;
        assert_eq!(code, code_wanted, "{body} -> {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains(says),
            "{body} -> {refused}"
        );
    }
    let (_, teams) = call(&app, &admin.token, "GET", "/api/v1/teams", None).await;
    assert_eq!(teams, json!([]), "a refused team leaves nothing behind");
    team(&app, &admin, "Billing", &[&ana], &[&bot]).await;
    let (code, refused) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "billing"})),
    )
    .await;
    assert_eq!(code, 409, "{refused}");
    let (code, _) = call(
        &app,
        &admin.token,
        "PATCH",
        "/api/v1/teams/999",
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(code, 404);
}

/// Baton's own texts the bot received for `ticket` (as `agt_baton`), and whether a
/// `/stop-hitl` came after them.
async fn notices(app: &TestApp, bot: &TestConnection, ticket: &str) -> Vec<String> {
    app.webhook_calls(&format!("{}/message-from-agent", bot.webhook_path))
        .await
        .into_iter()
        .filter(|b| b["remoteConversationId"] == ticket)
        .map(|b| {
            assert_eq!(b["remoteUserId"], "agt_baton", "{b}");
            assert_eq!(b["messageType"], "text", "{b}");
            b["payload"]["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn stopped(app: &TestApp, bot: &TestConnection) -> Vec<String> {
    app.webhook_calls(&format!("{}/stop-hitl", bot.webhook_path))
        .await
        .into_iter()
        .map(|b| b["remoteConversationId"].as_str().unwrap().to_owned())
        .collect()
}

async fn patch_routing(
    app: &TestApp,
    admin: &ApiClient,
    bot: &TestConnection,
    body: Value,
) -> (u16, Value) {
    call(
        app,
        &admin.token,
        "PATCH",
        &format!("/api/v1/connections/{}/routing", bot.id),
        Some(body),
    )
    .await
}

/// Open every day, all day, or (with `open` false) never.
fn hours(open: bool) -> Value {
    let day = if open {
        json!([{"from": "00:00", "to": "24:00"}])
    } else {
        json!([])
    };
    json!({
        "time_zone": "UTC",
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
        "holidays": []
    })
}

#[tokio::test]
async fn a_conversation_nobody_can_take_is_handed_back_with_the_message() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let bot = app.connection("support", false).await;
    let when = json!({"action": "hand_back", "message": "We are away: the bot will help you.", "wait_limit_minutes": 1});
    let (code, set) = patch_routing(
        &app,
        &admin,
        &bot,
        json!({"hours": hours(false), "when_unavailable": when}),
    )
    .await;
    assert_eq!(code, 200, "{set}");
    assert_eq!(set["when_unavailable"], when);
    assert_eq!(set["hours"]["time_zone"], "UTC");

    // Outside business hours: the customer is told, then the bot has them back.
    let late = app.escalate(&bot, "after hours").await;
    eventually(5, "the late ticket to close", || async {
        (listed(&app, &admin.token, "closed").await.contains(&late)).then_some(())
    })
    .await;
    eventually(10, "Botpress to hear of it", || async {
        (!stopped(&app, &bot).await.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        notices(&app, &bot, &late).await,
        ["We are away: the bot will help you."]
    );
    assert_eq!(stopped(&app, &bot).await, [late.as_str()]);
    let calls: Vec<String> = app
        .botpress
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        calls,
        ["message-from-agent", "stop-hitl"],
        "the message first"
    );
    let id = app.ticket_id(&bot, &late).await;
    assert_eq!(
        app.activity(id).await,
        ["Handed back to the bot: outside business hours"]
    );

    // Open, but nobody available: the same.
    patch_routing(&app, &admin, &bot, json!({"hours": hours(true)})).await;
    let alone = app.escalate(&bot, "nobody here").await;
    eventually(5, "the lonely ticket to close", || async {
        (listed(&app, &admin.token, "closed").await.contains(&alone)).then_some(())
    })
    .await;
    let id = app.ticket_id(&bot, &alone).await;
    assert_eq!(
        app.activity(id).await,
        ["Handed back to the bot: no agent was available"]
    );

    // Someone is there: it waits, until the wait limit passes.
    let _tab = tab(&app, &ana).await;
    let waits = app.escalate(&bot, "someone is here").await;
    let pass = backend::routing::auto::route(&app.services).await.unwrap();
    assert_eq!(pass.returned, 0);
    assert!(listed(&app, &ana.token, "queued").await.contains(&waits));
    crate::sql!(
        app,
        sqlx::query("update tickets set created_at = created_at - 61000 where remote_id = $1")
            .bind(&waits),
        execute
    )
    .unwrap();
    // The app's own router sweeps too and may get there first. Passes take turns, so
    // once this one is done the ticket has gone back exactly once, whichever pass took
    // it: the activity and the audit below count that.
    backend::routing::auto::route(&app.services).await.unwrap();
    let id = app.ticket_id(&bot, &waits).await;
    assert_eq!(
        app.activity(id).await,
        ["Handed back to the bot: nobody took it within the wait limit"]
    );
    assert_eq!(
        audited(&app, &admin, "ticket.return").await,
        ["ticket.return"; 3],
        "after hours, nobody available, the wait limit"
    );

    // Keeping them queued (the default) hands nothing back.
    let keep = json!({"action": "queue"});
    let (_, set) = patch_routing(
        &app,
        &admin,
        &bot,
        json!({"hours": hours(false), "when_unavailable": keep}),
    )
    .await;
    assert_eq!(
        set["when_unavailable"],
        json!({"action": "queue", "message": "", "wait_limit_minutes": null})
    );
    let kept = app.escalate(&bot, "kept").await;
    eventually(5, "the new ticket to be screened", || async {
        let screened: bool = crate::sql!(
            app,
            sqlx::query_scalar("select screened from tickets where remote_id = $1").bind(&kept),
            fetch_one
        )
        .unwrap();
        screened.then_some(())
    })
    .await;
    assert!(listed(&app, &admin.token, "queued").await.contains(&kept));
}

#[tokio::test]
async fn waiting_customers_are_told_their_place_as_it_changes() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let ana = token(&app, "ana@example.org", Role::Agent).await;
    let bot = app.connection("support", false).await;
    let text = json!({"queue_position_text": "You are number {position} in the queue."});
    let (code, set) = patch_routing(&app, &admin, &bot, text).await;
    assert_eq!(code, 200, "{set}");
    let first = app.escalate(&bot, "first").await;
    let second = app.escalate(&bot, "second").await;
    let told = |ticket: String| {
        let (app, bot) = (&app, &bot);
        async move { notices(app, bot, &ticket).await }
    };
    // Each ticket's notice is its own webhook call, delivered on its own: the
    // second's may arrive first.
    eventually(10, "both to be told", || async {
        (told(first.clone()).await.len() == 1 && told(second.clone()).await.len() == 1)
            .then_some(())
    })
    .await;
    assert_eq!(
        told(first.clone()).await,
        ["You are number 1 in the queue."]
    );
    assert_eq!(
        told(second.clone()).await,
        ["You are number 2 in the queue."]
    );
    // The first is taken: the second moves up, and is told; nobody is told twice.
    let (code, _) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{first}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200);
    eventually(10, "the second to hear it moved", || async {
        (told(second.clone()).await.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        told(second.clone()).await,
        [
            "You are number 2 in the queue.",
            "You are number 1 in the queue."
        ]
    );
    backend::routing::auto::route(&app.services).await.unwrap();
    assert_eq!(told(first).await.len(), 1);
    // Off again: nothing more is said.
    let (_, set) = patch_routing(&app, &admin, &bot, json!({"queue_position_text": null})).await;
    assert_eq!(set["queue_position_text"], Value::Null);
    let third = app.escalate(&bot, "third").await;
    backend::routing::auto::route(&app.services).await.unwrap();
    assert!(told(third).await.is_empty());
}

#[tokio::test]
async fn hours_and_texts_are_checked_with_a_reason() {
    let app = spawn_app().await;
    let admin = token(&app, "admin@example.org", Role::Admin).await;
    let bot = app.connection("support", false).await;
    let mut bad_zone = hours(true);
    bad_zone["time_zone"] = json!("Mars/Olympus");
    let mut overlap = hours(true);
    overlap["weekly"]["tue"] =
        json!([{"from": "09:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]);
    let mut bad_day = hours(true);
    bad_day["holidays"] = json!(["2026-02-30"]);
    for (body, says) in [
        (json!({"hours": bad_zone}), "not a time zone"),
        (json!({"hours": overlap}), "tue: open spans overlap"),
        (json!({"hours": bad_day}), "is not a day"),
        (json!({"queue_position_text": "You are next"}), "{position}"),
        (
            json!({"when_unavailable": {"action": "hand_back", "wait_limit_minutes": 0}}),
            "from 1 to 1440",
        ),
        (
            json!({"when_unavailable": {"action": "hand_back", "message": "x".repeat(1001)}}),
            "at most 1000",
        ),
        (
            json!({"when_unavailable": {"action": "later"}}),
            "unknown variant",
        ),
    ] {
        let (code, refused) = patch_routing(&app, &admin, &bot, body.clone()).await;
        assert_eq!(code, 400, "{body} -> {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains(says),
            "{body} -> {refused}"
        );
    }
    let (_, now) = call(
        &app,
        &admin.token,
        "GET",
        &format!("/api/v1/connections/{}/routing", bot.id),
        None,
    )
    .await;
    assert_eq!(now["hours"], Value::Null, "nothing refused was kept");
    assert_eq!(now["when_unavailable"]["action"], "queue");
}

/// Someone named `name`, signed in both ways: a browser session (pages and server
/// functions) and an API token (REST).
async fn person(app: &TestApp, name: &str, email: &str, role: Role) -> (Browser, ApiClient) {
    let user =
        backend::accounts::create_user(app.store(), email, name, role, Some(PASSWORD.into()))
            .await
            .unwrap();
    let response = app.login(email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, token) = backend::accounts::create_token(app.store(), user.id, "rest")
        .await
        .unwrap();
    let browser = Browser {
        user: user.clone(),
        cookie,
    };
    (browser, ApiClient { user, token })
}

/// The ids of the tickets in a customer's answer (REST), newest first.
fn tickets_of(customer: &Value) -> Vec<String> {
    customer["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bots_customers_are_only_for_those_who_may_see_its_tickets() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let (lee_b, lee) = person(&app, "Lee", "lee@example.org", Role::Admin).await;
    let (ana_b, ana) = person(&app, "Ana", "ana@example.org", Role::Agent).await;
    let (ben_b, ben) = person(&app, "Ben", "ben@example.org", Role::Agent).await;
    let billing = app.connection("billing", false).await;
    let cus = app
        .remote_user(&billing, "Dana Smith", "dana@example.org")
        .await;
    let refund = app.escalate(&billing, "Refund please").await;
    app.user_says(
        &billing,
        &refund,
        &cus,
        json!({"type": "text", "text": "Where is my money?"}),
    )
    .await;
    let invoice = app.escalate(&billing, "Invoice copy").await;
    app.user_says(
        &billing,
        &invoice,
        &cus,
        json!({"type": "text", "text": "And my invoice"}),
    )
    .await;
    let path = format!("/api/v1/customers/{cus}");
    let page = format!("/customers/{cus}");
    // No team serves billing yet: everyone sees Dana.
    let (code, seen) = call(&app, &ben.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{seen}");

    let made = team(&app, &lee, "Billing", &[&ana], &[&billing]).await;

    // Ben is not in the team that serves billing: Dana does not exist for him, on
    // every route that reads or changes her, as for an id nobody has.
    for (verb, route, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"phone": "+1 555 0100"}))),
        (
            "POST",
            format!("{path}/notes"),
            Some(json!({"text": "Ben was here"})),
        ),
        ("GET", format!("{path}/botpress"), None),
        ("GET", "/api/v1/customers/cus_nobody".to_owned(), None),
    ] {
        let (code, answer) = call(&app, &ben.token, verb, &route, body).await;
        assert_eq!(code, 404, "{verb} {route}: {answer}");
    }
    let cus_id = cus.as_str();
    for (endpoint, fields) in [
        ("customers/profile", vec![("id", cus_id)]),
        (
            "customers/update",
            vec![
                ("id", cus_id),
                ("name", "Ben's name"),
                ("phone", ""),
                ("company", ""),
            ],
        ),
        (
            "customers/note",
            vec![("id", cus_id), ("text", "Ben was here")],
        ),
        ("customers/botpress", vec![("id", cus_id)]),
    ] {
        let (code, answer) = app.call_form(endpoint, &ben_b, &fields).await;
        assert_eq!(code, 404, "{endpoint}: {answer}");
        assert!(answer["NotFound"].is_string(), "{endpoint}: {answer}");
    }
    let response = app.get_as(&ben_b, &page).await;
    assert_eq!(response.status(), 404, "{page} as Ben");
    let html = response.text().await.unwrap();
    assert!(html.contains("No such customer"), "{html}");
    assert!(!html.contains("dana@example.org"), "{html}");
    let (_, found) = call(&app, &ben.token, "GET", "/api/v1/search?q=dana", None).await;
    assert_eq!(found["hits"], json!([]), "nor can he find her");

    // Nothing Ben tried happened. An admin and the team's agent see Dana and both
    // her tickets, and may change her.
    let (code, seen) = call(&app, &lee.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(seen["customer"]["name"], "Dana Smith");
    assert_eq!(seen["customer"]["phone"], Value::Null);
    assert_eq!(seen["notes"], json!([]));
    assert_eq!(tickets_of(&seen), [invoice.as_str(), refund.as_str()]);
    let (code, seen) = call(&app, &ana.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(tickets_of(&seen), [invoice.as_str(), refund.as_str()]);
    let (code, edited) = call(
        &app,
        &ana.token,
        "PATCH",
        &path,
        Some(json!({"phone": "+1 555 0100"})),
    )
    .await;
    assert_eq!(code, 200, "{edited}");
    let (code, note) = call(
        &app,
        &ana.token,
        "POST",
        &format!("{path}/notes"),
        Some(json!({"text": "Prefers email"})),
    )
    .await;
    assert_eq!(code, 201, "{note}");
    // The bot has no API credentials: a reason, not "not found".
    let (code, answer) = call(&app, &ana.token, "GET", &format!("{path}/botpress"), None).await;
    assert_eq!(code, 400, "{answer}");
    for browser in [&ana_b, &lee_b] {
        let (code, answer) = app
            .call_form("customers/profile", browser, &[("id", cus_id)])
            .await;
        assert_eq!(code, 200, "{answer}");
        assert_eq!(answer["customer"]["name"], "Dana Smith");
        let response = app.get_as(browser, &page).await;
        assert_eq!(response.status(), 200, "{page}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Dana Smith"), "{html}");
    }

    // Ana takes the refund, then leaves the team: she keeps the ticket she holds,
    // and so sees Dana, but of Dana's tickets only that one, here and beside the
    // conversation.
    let (code, taken) = call(
        &app,
        &ana.token,
        "POST",
        &format!("/api/v1/tickets/{refund}/assign"),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 200, "{taken}");
    let (code, _) = call(
        &app,
        &lee.token,
        "PATCH",
        &format!("/api/v1/teams/{}", made["id"]),
        Some(json!({"agent_ids": []})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, seen) = call(&app, &ana.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(tickets_of(&seen), [refund.as_str()]);
    let html = app.get_as(&ana_b, &page).await.text().await.unwrap();
    assert!(html.contains("Refund please"), "{html}");
    assert!(!html.contains("Invoice copy"), "{html}");
    let (code, conversation) = app
        .call_form("inbox/ticket", &ana_b, &[("id", refund.as_str())])
        .await;
    assert_eq!(code, 200, "{conversation}");
    assert_eq!(conversation["customer"]["id"], cus_id);
    assert_eq!(conversation["customer"]["others"], json!([]));
    let (code, seen) = call(&app, &lee.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(tickets_of(&seen), [invoice.as_str(), refund.as_str()]);
    let (code, _) = call(&app, &ben.token, "GET", &path, None).await;
    assert_eq!(code, 404);
}

/// The tickets a person's Mentions view lists, and its count, as their inbox reads
/// them.
async fn mentions_of(app: &TestApp, browser: &Browser) -> (Vec<String>, i64) {
    let (code, page) = app
        .call_form("inbox/list", browser, &[("view", "mentions")])
        .await;
    assert_eq!(code, 200, "{page}");
    let listed = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let (code, summary) = app.call_form("inbox/summary", browser, &[]).await;
    assert_eq!(code, 200, "{summary}");
    (listed, summary["mentions"].as_i64().unwrap())
}

#[tokio::test]
async fn mentions_stay_among_those_who_may_see_the_ticket() {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let (_, lee) = person(&app, "Lee", "lee@example.org", Role::Admin).await;
    let (ana_b, ana) = person(&app, "Ana", "ana@example.org", Role::Agent).await;
    let (ben_b, ben) = person(&app, "Ben", "ben@example.org", Role::Agent).await;
    let billing = app.connection("billing", false).await;
    let refund = app.escalate(&billing, "Refund please").await;
    let notes = format!("/api/v1/tickets/{refund}/notes");

    // While everyone serves billing, Lee mentions Ben: the ticket waits in his
    // Mentions view.
    let (code, note) = call(
        &app,
        &lee.token,
        "POST",
        &notes,
        Some(json!({"text": "@Ben can you check?"})),
    )
    .await;
    assert_eq!(code, 201, "{note}");
    assert_eq!(note["mentions"], json!(["Ben"]));
    assert_eq!(mentions_of(&app, &ben_b).await, (vec![refund.clone()], 1));

    // A team without Ben now serves billing: the mention is still there, but his
    // Mentions view and its count no longer show him the ticket.
    let made = team(&app, &lee, "Billing", &[&ana], &[&billing]).await;
    assert_eq!(mentions_of(&app, &ben_b).await, (vec![], 0));

    // The note's `@` picker offers Ana only those who may see the ticket: Lee, an
    // admin, and not Ben. Ben cannot ask about a ticket he cannot see.
    let (code, offered) = app
        .call_form("inbox/mentionable", &ana_b, &[("id", refund.as_str())])
        .await;
    assert_eq!(code, 200, "{offered}");
    let names: Vec<&str> = offered
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lee"]);
    let (code, _) = app
        .call_form("inbox/mentionable", &ben_b, &[("id", refund.as_str())])
        .await;
    assert_eq!(code, 404);

    // A note that names Ben anyway, by name or by email, is refused with the reason,
    // and nothing is kept.
    let (code, refused) = call(
        &app,
        &ana.token,
        "POST",
        &notes,
        Some(json!({"text": "@Ben please look"})),
    )
    .await;
    assert_eq!(code, 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("Ben is not in a team that serves this bot"),
        "{refused}"
    );
    let (code, refused) = app
        .call_form(
            "inbox/note",
            &ana_b,
            &[
                ("id", refund.as_str()),
                ("text", "@ben@example.org please look"),
            ],
        )
        .await;
    assert_eq!(code, 400, "{refused}");
    assert!(
        refused["Invalid"]
            .as_str()
            .unwrap()
            .contains("Ben is not in a team that serves this bot"),
        "{refused}"
    );
    let (_, read) = call(
        &app,
        &lee.token,
        "GET",
        &format!("/api/v1/tickets/{refund}"),
        None,
    )
    .await;
    assert_eq!(read["notes"].as_array().unwrap().len(), 1, "{read}");
    assert_eq!(mentions_of(&app, &ben_b).await, (vec![], 0));

    // Mentioning someone who may see the ticket works as before.
    let (code, note) = call(
        &app,
        &ana.token,
        "POST",
        &notes,
        Some(json!({"text": "@Lee is this approved?"})),
    )
    .await;
    assert_eq!(code, 201, "{note}");
    assert_eq!(note["mentions"], json!(["Lee"]));

    // Ben joins the team: Lee's old mention shows him the ticket again.
    let (code, _) = call(
        &app,
        &lee.token,
        "PATCH",
        &format!("/api/v1/teams/{}", made["id"]),
        Some(json!({"agent_ids": [ana.user.public_id, ben.user.public_id]})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(mentions_of(&app, &ben_b).await, (vec![refund.clone()], 1));
}

/// The events on the socket up to the one that names `last` (its ticket), presence
/// and heartbeats left out.
async fn events_until(ws: &mut Ws, last: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let e = next(ws).await;
        if e["type"] == "presence" {
            continue;
        }
        let done = e["ticket"] == last;
        seen.push(e);
        if done {
            return seen;
        }
    }
}

/// The types of the events that name the ticket or the customer, in order.
fn about(events: &[Value], ticket: &str, customer: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["ticket"] == ticket || e["customer"] == customer)
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bots_ticket_events_reach_only_those_who_may_see_it() {
    let (app, admin, ana, ben) = cast().await;
    let billing = app.connection("billing", false).await;
    let sales = app.connection("sales", false).await;
    team(&app, &admin, "Billing", &[&ana], &[&billing]).await;
    let (_, label) = call(
        &app,
        &admin.token,
        "POST",
        "/api/v1/labels",
        Some(json!({"name": "Urgent", "colour": "#ff0000"})),
    )
    .await;
    let mut tabs = [
        tab(&app, &ana).await,
        tab(&app, &ben).await,
        tab(&app, &admin).await,
    ];

    // What can happen to a billing ticket and its customer, in Ana's hands.
    let dana = app
        .remote_user(&billing, "Dana Smith", "dana@example.org")
        .await;
    let refund = app.escalate(&billing, "Refund please").await;
    app.user_says(
        &billing,
        &refund,
        &dana,
        json!({"type": "text", "text": "Hello?"}),
    )
    .await;
    let on = |what: &str| format!("/api/v1/tickets/{refund}{what}");
    let steps = [
        ("POST", on("/assign"), Some(json!({})), 200),
        ("POST", on("/messages"), Some(json!({"text": "On it"})), 201),
        (
            "POST",
            on("/notes"),
            Some(json!({"text": "Long-time customer"})),
            201,
        ),
        ("POST", on(&format!("/labels/{}", label["id"])), None, 204),
        (
            "PATCH",
            format!("/api/v1/customers/{dana}"),
            Some(json!({"phone": "+44 20 7946 0000"})),
            200,
        ),
        ("POST", on("/close"), None, 200),
    ];
    for (verb, path, body, expected) in steps {
        let (code, answer) = call(&app, &ana.token, verb, &path, body).await;
        assert_eq!(code, expected, "{verb} {path}: {answer}");
    }
    // Then a ticket of a bot everyone serves: every tab gets it, after the rest.
    let pricing = app.escalate(&sales, "Pricing").await;

    let [ana_tab, ben_tab, admin_tab] = &mut tabs;
    let ben_saw = events_until(ben_tab, &pricing).await;
    assert_eq!(
        about(&ben_saw, &refund, &dana),
        Vec::<String>::new(),
        "Ben is in no team that serves billing: {ben_saw:?}"
    );
    let expected = [
        "ticket_created",
        "message_added",
        "assigned",
        "message_added",
        "note_added",
        "labels_changed",
        "customer_changed",
        "closed",
    ];
    for (who, socket) in [("Ana", ana_tab), ("the admin", admin_tab)] {
        let saw = events_until(socket, &pricing).await;
        let got = about(&saw, &refund, &dana);
        // In this order, with others between (a reply's delivery report comes
        // whenever the bot answers).
        let mut rest = got.iter();
        for kind in expected {
            assert!(
                rest.any(|t| t == kind),
                "{who} sees every change of the ticket: {kind} missing from {got:?}"
            );
        }
    }
}
