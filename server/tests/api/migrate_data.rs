//! `baton migrate-data`: an installation's SQLite database, with a row in every table,
//! copied into PostgreSQL by the real binary, compared value by value, copied again
//! (idempotent, with deletions mirrored), and refused when the target is another
//! installation's.

use serde_json::json;
use sqlx::{PgPool, Row, SqlitePool};

use crate::engines::{Kind, sqlite_columns, sqlite_tables};
use crate::helpers::{
    PASSWORD, TestApp, TestConnection, by, live_ticket, postgres_database, spawn_app,
    spawn_app_with, token,
};

/// What the app's own paths do not write in a few calls, written as an installation
/// would hold it: every remaining table gets a row, with accents, JSON and blobs.
const EXTRA_ROWS: &str = "
insert into settings (key, value) values ('test.flag', '{\"on\": true, \"list\": [1, \"ü\"]}');
insert into one_time_links (purpose, user_id, token_sha256, created_at, expires_at)
    values ('invite', 1, 'sha-invite', 1, 2);
insert into ticket_reads (user_id, ticket_id, last_read_message_id) values (1, 1, 1);
insert into attachments (key, ticket_id, uploader_id, name, content_type, size, created_at)
    values ('att_1', 1, 1, 'reçu.pdf', 'application/pdf', 1234, 5);
insert into media (message_id, ticket_id, url, state, created_at)
    values (1, 1, 'https://files.example/a.png', 'pending', 6);
insert into canned_replies (owner_id, shortcut, body, created_at, updated_at)
    values (null, 'hello', 'Bonjour, {name} !', 7, 7), (1, 'mine', 'Mine', 8, 8);
insert into notes (ticket_id, author_id, text, created_at) values (1, 1, 'Call back @Ben', 9);
insert into note_mentions (note_id, user_id, ticket_id, seen_at) values (1, 1, 1, null);
insert into labels (name, colour, created_at) values ('Refund', '#aa3300', 10);
insert into ticket_labels (ticket_id, label_id, added_by, added_at) values (1, 1, 1, 11);
insert into customer_notes (customer_id, author_id, text, created_at) values (1, 1, 'VIP', 12);
insert into teams (name, created_at) values ('Tier 1', 13);
insert into team_members (team_id, user_id) values (1, 1);
insert into team_connections (team_id, connection_id) values (1, 1);
insert into availability_log (user_id, started_at, ended_at) values (1, 14, 15), (1, 16, null);
";

/// An installation with a row in every table, through the app where it is cheap. Its
/// server is stopped, as before a move, so no worker changes a row between the copy
/// and the comparison.
async fn installation() -> TestApp {
    let mut app = populated().await;
    app.stop().await;
    app
}

async fn populated() -> TestApp {
    let app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("support", false).await;
    let remote = live_ticket(&app, &conn, "Où est ma commande ?").await;
    let ticket = app.ticket_id(&conn, &remote).await;
    let agent = app.agent("ana@example.com", "Ana").await;
    backend::tickets::assign(&app.services, ticket, agent.id, &by(&app, agent.id).await)
        .await
        .unwrap();
    backend::tickets::send_message(
        &app.services,
        ticket,
        agent.id,
        "text",
        &json!({ "text": "Je regarde 👀" }),
    )
    .await
    .unwrap();
    app.close_remote(&conn, "conv_unknown").await;
    token(&app, "admin@example.com", backend::users::Role::Admin).await;
    app.signed_in("ben@example.com", backend::users::Role::Agent)
        .await;
    sqlx::raw_sql(EXTRA_ROWS).execute(app.db()).await.unwrap();
    app
}

/// Every value of a table, as text both engines can produce, in one order.
async fn contents(sqlite: &SqlitePool, postgres: &PgPool, table: &str) -> [Vec<Vec<Cell>>; 2] {
    let columns = sqlite_columns(sqlite, table).await;
    let lite: Vec<String> = columns
        .iter()
        .map(|(c, kind)| match kind {
            Kind::Bytes => format!("hex(\"{c}\")"),
            Kind::Time => format!("strftime('%s', \"{c}\")"),
            _ => format!("cast(\"{c}\" as text)"),
        })
        .collect();
    let pg: Vec<String> = columns
        .iter()
        .map(|(c, kind)| match kind {
            Kind::Flag => format!("(\"{c}\"::int)::text"),
            Kind::Bytes => format!("upper(encode(\"{c}\", 'hex'))"),
            Kind::Time => format!("floor(extract(epoch from \"{c}\"))::bigint::text"),
            _ => format!("\"{c}\"::text"),
        })
        .collect();
    // Both order text byte by byte (the test cluster uses the C locale); every table
    // starts with its key, so rows line up before any JSON text is compared.
    let order: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    let order = order.join(", ");
    let lite = sqlx::query(&format!(
        "select {} from \"{table}\" order by {order}",
        lite.join(", ")
    ))
    .fetch_all(sqlite)
    .await
    .unwrap();
    let pg = sqlx::query(&format!(
        "select {} from \"{table}\" order by {order}",
        pg.join(", ")
    ))
    .fetch_all(postgres)
    .await
    .unwrap();
    let cells = |row: Vec<Option<String>>| -> Vec<Cell> {
        row.into_iter()
            .zip(&columns)
            .map(|(value, (_, kind))| match (kind, value) {
                // The same JSON, however each engine spaces it.
                (Kind::Json, Some(text)) => Cell::Json(serde_json::from_str(&text).unwrap()),
                (_, value) => Cell::Text(value),
            })
            .collect()
    };
    [
        lite.iter()
            .map(|r| cells((0..columns.len()).map(|i| r.get(i)).collect()))
            .collect(),
        pg.iter()
            .map(|r| cells((0..columns.len()).map(|i| r.get(i)).collect()))
            .collect(),
    ]
}

#[derive(Debug, PartialEq)]
enum Cell {
    Text(Option<String>),
    Json(serde_json::Value),
}

#[tokio::test]
async fn an_installation_moves_to_postgres_whole_and_again_idempotently() {
    let app = installation().await;
    let target = postgres_database().await;

    let (ok, stdout, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("holds as many rows"), "{stderr}");

    let postgres = store_postgres::connect(&target).await.unwrap();
    let tables = sqlite_tables(app.db()).await;
    assert!(tables.len() > 25, "{tables:?}");
    for table in &tables {
        let [lite, pg] = contents(app.db(), &postgres, table).await;
        if table == "leases" {
            // The running process's job leases are its own, not data to move.
            assert!(pg.is_empty(), "{pg:?}");
            continue;
        }
        assert!(!lite.is_empty(), "the installation has no row in {table}");
        assert_eq!(
            pg, lite,
            "table {table}: every row and value, in PostgreSQL as in SQLite"
        );
        assert!(
            stdout
                .lines()
                .any(|l| l == format!("{table}\t{}", lite.len())),
            "{table} in the summary:\n{stdout}"
        );
    }

    // New ids continue after the copied ones.
    let next: i64 = sqlx::query_scalar(
        "insert into labels (name, colour, created_at) values ('New', '#000000', 1) returning id",
    )
    .fetch_one(&postgres)
    .await
    .unwrap();
    assert_eq!(next, 2);
    sqlx::query("delete from labels where id = 2")
        .execute(&postgres)
        .await
        .unwrap();

    // What happened since the first copy arrives with the second; nothing doubles.
    sqlx::query("update users set name = 'Ana María' where email = 'ana@example.com'")
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query("insert into labels (name, colour, created_at) values ('Urgent', '#ff0000', 20)")
        .execute(app.db())
        .await
        .unwrap();
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(ok, "{stderr}");
    for table in &tables {
        let [lite, pg] = contents(app.db(), &postgres, table).await;
        assert_eq!(pg, lite, "after the second copy, table {table}");
    }
}

#[tokio::test]
async fn deletions_since_the_last_copy_are_mirrored_and_another_installation_is_refused() {
    let app = installation().await;
    let target = postgres_database().await;
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(ok, "{stderr}");
    let postgres = store_postgres::connect(&target).await.unwrap();

    // After the first copy, as a running Baton would: a reply and a label deleted (the
    // label leaving its ticket first), and the label's name taken again by a new one
    // (another id), which the target must not see as a duplicate name.
    sqlx::raw_sql(
        "delete from canned_replies where shortcut = 'mine';
         delete from ticket_labels where label_id = 1;
         delete from labels where id = 1;
         insert into labels (id, name, colour, created_at) values (5, 'refund', '#00aa33', 21);
         update users set name = 'Ana María' where email = 'ana@example.com';",
    )
    .execute(app.db())
    .await
    .unwrap();
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("Removed 3 rows deleted in SQLite"),
        "{stderr}"
    );
    for table in sqlite_tables(app.db()).await {
        let [lite, pg] = contents(app.db(), &postgres, &table).await;
        assert_eq!(pg, lite, "after deletions, table {table}");
    }

    // A target that another installation marked is refused, and nothing is written.
    let ana = "select name from users where email = 'ana@example.com'";
    sqlx::query("update settings set value = '\"0123abcd\"' where key = 'installation'")
        .execute(&postgres)
        .await
        .unwrap();
    sqlx::query("update users set name = 'Changed' where email = 'ana@example.com'")
        .execute(app.db())
        .await
        .unwrap();
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(!ok);
    assert!(
        stderr.contains("another installation's database"),
        "{stderr}"
    );
    let name: String = sqlx::query_scalar(ana).fetch_one(&postgres).await.unwrap();
    assert_eq!(name, "Ana María", "the refused copy wrote nothing");

    // A target with no mark but rows this source lacks (not one of its copies) is
    // refused after the copy's count, and the copy rolled back: not even the tables
    // before the one that differs were written.
    sqlx::raw_sql(
        "delete from settings where key = 'installation';
         insert into canned_replies (owner_id, shortcut, body, created_at, updated_at)
             values (null, 'theirs', 'Not ours', 30, 30);",
    )
    .execute(&postgres)
    .await
    .unwrap();
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(!ok);
    assert!(stderr.contains("canned_replies"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    let name: String = sqlx::query_scalar(ana).fetch_one(&postgres).await.unwrap();
    assert_eq!(name, "Ana María", "the refused copy wrote nothing");
}

#[tokio::test]
async fn migrate_data_says_what_is_wrong_with_its_arguments() {
    let app = spawn_app().await;
    let (ok, _, stderr) = app
        .cli(&["migrate-data", "--to", "sqlite://elsewhere.db"], None)
        .await;
    assert!(!ok);
    assert!(
        stderr.contains("--to must be a PostgreSQL database"),
        "{stderr}"
    );

    let target = postgres_database().await;
    let (ok, _, stderr) = app
        .cli(
            &[
                "migrate-data",
                "--from",
                "sqlite:///nonexistent/baton.db",
                "--to",
                &target,
            ],
            None,
        )
        .await;
    assert!(!ok);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!std::path::Path::new("/nonexistent/baton.db").exists());

    // A password in the target's URL is not echoed when the connection fails.
    let (ok, _, stderr) = app
        .cli(
            &[
                "migrate-data",
                "--to",
                "postgres://baton:s3cret-pw@127.0.0.1:1/baton",
            ],
            None,
        )
        .await;
    assert!(!ok);
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
    assert!(
        stderr.contains("cannot open the PostgreSQL database"),
        "{stderr}"
    );
}

/// The move an admin makes: copy while SQLite serves, stop it, serve from PostgreSQL.
/// The same people sign in with their passwords, find the same tickets, and Botpress
/// goes on with the same endpoint token. The first start there makes the database
/// this installation's, once: copying the old file over it again is refused.
#[tokio::test]
async fn a_copied_installation_serves_from_postgres_and_a_later_copy_is_refused() {
    use backend::tickets::views;
    let mut app = spawn_app().await;
    app.accept_webhooks().await;
    let conn = app.connection("support", false).await;
    let remote = live_ticket(&app, &conn, "Refund for order 1234").await;
    let ben = app
        .signed_in("ben@example.com", backend::users::Role::Admin)
        .await;
    // An agent sends a file: SQLite keeps it in the installation's folder.
    let ana = crate::helpers::token(&app, "ana@example.com", backend::users::Role::Agent).await;
    let path = format!("/api/v1/tickets/{remote}/assign");
    let (status, _) = crate::helpers::call(&app, &ana.token, "POST", &path, Some(json!({}))).await;
    assert_eq!(status, 200);
    let file = b"%PDF-1.4 the invoice".to_vec();
    let sent = app
        .client
        .post(app.url(&format!(
            "/api/v1/tickets/{remote}/attachments?name=invoice.pdf"
        )))
        .bearer_auth(&ana.token)
        .header("content-type", "application/pdf")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let key: String = crate::sql!(
        app,
        sqlx::query_scalar("select key from attachments"),
        fetch_one
    )
    .unwrap();
    let target = postgres_database().await;
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("Copied 1 files"), "{stderr}");
    app.stop().await;

    let live = spawn_app_with(|c| c.database_url = target.clone()).await;
    assert_eq!(live.login("ben@example.com", PASSWORD).await.status(), 200);
    let ticket = views::find_by_remote_id(live.store(), ben.user.id, &remote)
        .await
        .unwrap();
    let row = views::row(live.store(), ben.user.id, ticket).await.unwrap();
    assert_eq!(row.title, "Refund for order 1234");
    let moved = TestConnection {
        endpoint: conn.endpoint.replace(&app.address, &live.address),
        ..conn
    };
    let customer = live.remote_user(&moved, "Dana", "dana@example.org").await;
    live.user_says(
        &moved,
        &remote,
        &customer,
        json!({"type": "text", "text": "Still there?", "userId": "user_1"}),
    )
    .await;
    let said: Vec<String> = views::messages(live.store(), ticket)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| m.payload["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(said, ["I need a human", "Still there?"]);
    // The file moved into the database: served with no folder of the old one.
    let served = live.get(&format!("/files/{key}/invoice.pdf")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), file);

    let installation = async |app: &TestApp| {
        let mut tx = app.store().autocommit().await.unwrap();
        tx.setting_get("installation").await.unwrap()
    };
    let claimed = installation(&live).await;
    assert!(claimed.is_some());
    let (ok, _, stderr) = app.cli(&["migrate-data", "--to", &target], None).await;
    assert!(!ok, "a copy over the live database must be refused");
    assert!(stderr.contains("another installation"), "{stderr}");
    // A restart keeps the id it took.
    live.shutdown().await.unwrap();
    let again = spawn_app_with(|c| c.database_url = target.clone()).await;
    assert_eq!(installation(&again).await, claimed);
}
