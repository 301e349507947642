//! The two engines' schemas. `migrations/sqlite` and `migrations/postgres` are written
//! separately, so this is what keeps them one schema: the same tables, columns (of
//! corresponding kinds, equally nullable), indexes and views, and the views, unique
//! rules and defaults answering alike on the same rows.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{PgPool, SqlitePool};

use crate::helpers::postgres_database;

/// What a column holds, as both engines can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Integer,
    /// SQLite: an integer checked to be 0 or 1. PostgreSQL: `boolean`.
    Flag,
    Text,
    /// SQLite: text checked by `json_valid`. PostgreSQL: `jsonb`.
    Json,
    Bytes,
    /// tower-sessions' expiry: SQLite's store writes a timestamp as text into a column it
    /// declares integer; PostgreSQL's is a `timestamptz`.
    Time,
}

type Columns = BTreeMap<String, (Kind, bool)>;

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Columns>,
    indexes: BTreeSet<String>,
    views: BTreeMap<String, Vec<String>>,
}

/// Unique in any letter case: an inline `unique collate nocase` in SQLite, a named
/// unique index on `lower(…)` in PostgreSQL.
const NOCASE_INDEXES: [&str; 4] = [
    "connections_name",
    "labels_name",
    "teams_name",
    "users_email",
];

/// Every object SQLite's schema holds: (type, name, SQL), without SQLite's own, the
/// migrations' bookkeeping, and the FTS5 tables with their shadow tables
/// (`search_messages_data`, …), which are SQLite's search index: PostgreSQL indexes
/// text differently.
async fn sqlite_objects(db: &SqlitePool) -> Vec<(String, String, Option<String>)> {
    let objects: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select type, name, sql from sqlite_master where name not like 'sqlite_%'")
            .fetch_all(db)
            .await
            .unwrap();
    let virtual_tables: Vec<String> = objects
        .iter()
        .filter(|(_, _, sql)| sql.as_deref().is_some_and(|s| s.contains("VIRTUAL TABLE")))
        .map(|(_, name, _)| name.clone())
        .collect();
    objects
        .into_iter()
        .filter(|(_, name, _)| {
            name != "_sqlx_migrations"
                && !virtual_tables
                    .iter()
                    .any(|v| name == v || name.starts_with(&format!("{v}_")))
        })
        .collect()
}

/// The tables both engines hold, by name.
pub(crate) async fn sqlite_tables(db: &SqlitePool) -> Vec<String> {
    let mut tables: Vec<String> = sqlite_objects(db)
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "table")
        .map(|(_, name, _)| name)
        .collect();
    tables.sort();
    tables
}

/// A SQLite table's columns in their declared order, with what each holds.
pub(crate) async fn sqlite_columns(db: &SqlitePool, table: &str) -> Vec<(String, Kind)> {
    sqlite_columns_and_keys(db, table)
        .await
        .into_iter()
        .map(|(column, kind, _)| (column, kind))
        .collect()
}

/// [`sqlite_columns`], each with whether it may not be null.
async fn sqlite_columns_and_keys(db: &SqlitePool, table: &str) -> Vec<(String, Kind, bool)> {
    let sql: String = sqlx::query_scalar("select sql from sqlite_master where name = ?")
        .bind(table)
        .fetch_one(db)
        .await
        .unwrap();
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "select name, type, \"notnull\", pk from pragma_table_info('{table}') order by cid"
    ))
    .fetch_all(db)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(column, declared, not_null, pk)| {
            let kind = match declared.to_lowercase().as_str() {
                "integer" if table == "tower_sessions" && column == "expiry_date" => Kind::Time,
                "integer" if sql.contains(&format!("{column} in (0, 1)")) => Kind::Flag,
                "integer" => Kind::Integer,
                "text" if sql.contains(&format!("json_valid({column})")) => Kind::Json,
                "text" => Kind::Text,
                "blob" => Kind::Bytes,
                other => panic!("{table}.{column}: unexpected SQLite type {other}"),
            };
            (column, kind, not_null == 1 || pk > 0)
        })
        .collect()
}

async fn sqlite_schema(db: &SqlitePool) -> Schema {
    let mut schema = Schema::default();
    for (kind, name, sql) in sqlite_objects(db).await {
        match kind.as_str() {
            "table" => {
                let columns = sqlite_columns_and_keys(db, &name)
                    .await
                    .into_iter()
                    .map(|(column, kind, not_null)| (column, (kind, not_null)))
                    .collect();
                schema.tables.insert(name, columns);
            }
            // Indexes SQLite makes for a constraint have no SQL of their own.
            "index" if sql.is_some() => {
                schema.indexes.insert(name);
            }
            "view" => {
                let columns: Vec<String> =
                    sqlx::query_scalar(&format!("select name from pragma_table_info('{name}')"))
                        .fetch_all(db)
                        .await
                        .unwrap();
                schema.views.insert(name, columns);
            }
            _ => {}
        }
    }
    schema
}

async fn postgres_schema(db: &PgPool) -> Schema {
    let mut schema = Schema::default();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text
         from information_schema.columns c
         join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and c.table_name != '_sqlx_migrations'
         order by c.table_name, c.ordinal_position",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let views: BTreeSet<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.views where table_schema = 'public'",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    for (table, column, data_type, nullable) in columns {
        if views.contains(&table) {
            schema.views.entry(table).or_default().push(column);
            continue;
        }
        let kind = match data_type.as_str() {
            "bigint" => Kind::Integer,
            "boolean" => Kind::Flag,
            "text" => Kind::Text,
            "jsonb" => Kind::Json,
            "bytea" => Kind::Bytes,
            "timestamp with time zone" => Kind::Time,
            other => panic!("{table}.{column}: unexpected PostgreSQL type {other}"),
        };
        schema
            .tables
            .entry(table)
            .or_default()
            .insert(column, (kind, nullable == "NO"));
    }
    // Indexes that back a primary key or a unique constraint are the constraint's.
    schema.indexes = sqlx::query_scalar(
        "select indexname::text from pg_indexes
         where schemaname = 'public'
           and indexname not in (select conname from pg_constraint where contype in ('p', 'u'))",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    schema
}

async fn both() -> (tempfile::TempDir, SqlitePool, PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = backend::db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let postgres = store_postgres::connect(&postgres_database().await)
        .await
        .unwrap();
    (dir, sqlite, postgres)
}

#[tokio::test]
async fn both_engines_have_the_same_schema() {
    let (_dir, sqlite, postgres) = both().await;
    let lite = sqlite_schema(&sqlite).await;
    let pg = postgres_schema(&postgres).await;

    assert_eq!(
        lite.tables.keys().collect::<Vec<_>>(),
        pg.tables.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &lite.tables {
        assert_eq!(
            columns, &pg.tables[table],
            "table {table}: the same columns, of the same kind, equally nullable \
             (left SQLite, right PostgreSQL)"
        );
    }
    let mut expected = lite.indexes.clone();
    expected.extend(NOCASE_INDEXES.map(String::from));
    assert_eq!(expected, pg.indexes, "the same indexes");
    assert_eq!(
        lite.views, pg.views,
        "the same views, with the same columns"
    );
    assert!(lite.tables.len() > 25, "read {} tables", lite.tables.len());
}

/// Rows that exercise the views and the rules both engines must agree on, in SQL that
/// both accept.
const ROWS: &str = "
insert into connections (id, name, endpoint_token, endpoint_token_sha256, webhook_url, created_at)
    values (1, 'Support', 't1', 'h1', 'http://bot', 0), (2, 'Sales', 't2', 'h2', 'http://bot', 0);
insert into users (id, public_id, email, name, role, created_at)
    values (1, 'usr_a', 'ana@example.com', 'Ana', 'agent', 0),
           (2, 'usr_b', 'ben@example.com', 'Ben', 'agent', 0),
           (3, 'usr_c', 'cy@example.com', 'Cy', 'admin', 0);
insert into teams (id, name, created_at) values (1, 'Sales team', 0);
insert into team_members (team_id, user_id) values (1, 2);
insert into team_connections (team_id, connection_id) values (1, 2);
insert into tickets (id, connection_id, remote_id, created_at, updated_at)
    values (1, 1, 'conv_1', 0, 0);
insert into messages (id, ticket_id, origin, type, payload, created_at)
    values (1, 1, 'customer', 'text', '{\"text\": \"Où est ma commande ?\"}', 0),
           (2, 1, 'system', 'choice',
            '{\"text\": \"Pick one\", \"options\": [{\"label\": \"Yes\"}, \"No\", {\"label\": \"Later\"}]}', 0),
           (3, 1, 'system', 'card', '{\"title\": \"Order\", \"options\": \"none\"}', 0);
";

#[tokio::test]
async fn both_engines_answer_alike_on_the_same_rows() {
    let (_dir, sqlite, postgres) = both().await;
    sqlx::raw_sql(ROWS).execute(&sqlite).await.unwrap();
    sqlx::raw_sql(ROWS).execute(&postgres).await.unwrap();

    // Who sees which bot: everyone sees Support (no team); Sales only its team's Ben
    // and the admin Cy.
    let visible = "select connection_id, user_id from visible_connections order by 1, 2";
    let lite: Vec<(i64, i64)> = sqlx::query_as(visible).fetch_all(&sqlite).await.unwrap();
    let pg: Vec<(i64, i64)> = sqlx::query_as(visible).fetch_all(&postgres).await.unwrap();
    assert_eq!(lite, vec![(1, 1), (1, 2), (1, 3), (1, 3), (2, 2), (2, 3)]);
    assert_eq!(pg, lite, "visible_connections");

    let served = "select connection_id, user_id from connection_agents order by 1, 2";
    let lite: Vec<(i64, i64)> = sqlx::query_as(served).fetch_all(&sqlite).await.unwrap();
    let pg: Vec<(i64, i64)> = sqlx::query_as(served).fetch_all(&postgres).await.unwrap();
    assert_eq!(pg, lite, "connection_agents");

    // What search reads of each message: text, title and the labels of object options.
    let text = "select id, body from message_search_text order by id";
    let lite: Vec<(i64, String)> = sqlx::query_as(text).fetch_all(&sqlite).await.unwrap();
    let pg: Vec<(i64, String)> = sqlx::query_as(text).fetch_all(&postgres).await.unwrap();
    assert_eq!(lite[1], (2, "Pick one    Yes Later".to_owned()));
    assert_eq!(pg, lite, "message_search_text");

    // Emails, bot, label and team names are unique in any letter case, on both.
    for duplicate in [
        "insert into users (public_id, email, name, role, created_at)
             values ('usr_d', 'ANA@example.com', 'Ana 2', 'agent', 0)",
        "insert into connections (name, endpoint_token, endpoint_token_sha256, webhook_url, created_at)
             values ('SUPPORT', 't3', 'h3', 'http://bot', 0)",
        "insert into teams (name, created_at) values ('sales TEAM', 0)",
    ] {
        let lite = sqlx::query(duplicate).execute(&sqlite).await.unwrap_err();
        let pg = sqlx::query(duplicate).execute(&postgres).await.unwrap_err();
        for (engine, e) in [("SQLite", lite), ("PostgreSQL", pg)] {
            assert!(
                e.as_database_error().is_some_and(|d| d.is_unique_violation()),
                "{engine}: {duplicate}: {e}"
            );
        }
    }

    // Defaults: a new ticket is queued, unscreened, with no messages counted; a new
    // user is active and available.
    let ticket = "select status, message_count from tickets where id = 1";
    let lite: (String, i64) = sqlx::query_as(ticket).fetch_one(&sqlite).await.unwrap();
    let pg: (String, i64) = sqlx::query_as(ticket).fetch_one(&postgres).await.unwrap();
    assert_eq!(lite, ("queued".to_owned(), 0));
    assert_eq!(pg, lite);
    let user = "select active, screened from users, tickets where users.id = 1 and tickets.id = 1";
    let lite: (bool, bool) = sqlx::query_as(user).fetch_one(&sqlite).await.unwrap();
    let pg: (bool, bool) = sqlx::query_as(user).fetch_one(&postgres).await.unwrap();
    assert_eq!(lite, (true, false));
    assert_eq!(pg, lite);
}

#[tokio::test]
async fn postgres_migrations_apply_once() {
    let url = postgres_database().await;
    store_postgres::connect(&url).await.unwrap().close().await;
    let again = store_postgres::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&again)
        .await
        .unwrap();
    assert_eq!(applied, store_postgres::MIGRATOR.iter().count() as i64);
    let progress: i64 = sqlx::query_scalar("select last_message_id from search_progress")
        .fetch_one(&again)
        .await
        .unwrap();
    assert_eq!(
        progress, 0,
        "the search indexer's starting point, as on SQLite"
    );
}

/// The canned replies' rules, through the persistence interface, on either engine;
/// what the admin sees at the end, without ids and times.
async fn canned_rules(store: &dyn store::Store) -> Vec<(String, String, bool)> {
    use backend::Error;
    use backend::canned::{self, Draft};
    let user = |id: i64, role: backend::users::Role| backend::users::User {
        id,
        public_id: format!("usr_{id}"),
        email: format!("{id}@example.com"),
        name: format!("User {id}"),
        role,
        active: true,
    };
    let (ana, ben, cy) = (
        user(1, backend::users::Role::Agent),
        user(2, backend::users::Role::Agent),
        user(3, backend::users::Role::Admin),
    );
    let actor = |u: &backend::users::User| backend::audit::Actor {
        id: Some(u.id),
        label: u.email.clone(),
        ip: None,
    };
    let draft = |shortcut: &str, body: &str| Draft {
        shortcut: shortcut.into(),
        body: body.into(),
    };

    let mine = canned::create(
        store,
        &ana,
        &actor(&ana),
        &draft("hello", "Hi {name}"),
        false,
    )
    .await
    .unwrap();
    let again = canned::create(store, &ana, &actor(&ana), &draft("HELLO", "x"), false).await;
    assert!(
        matches!(&again, Err(Error::Conflict(m)) if m.contains("you already have")),
        "{again:?}"
    );
    let not_admin = canned::create(store, &ana, &actor(&ana), &draft("team", "x"), true).await;
    assert!(
        matches!(not_admin, Err(Error::NotAllowed(_))),
        "{not_admin:?}"
    );
    // The same shortcut in the other scope is another reply.
    let shared = canned::create(
        store,
        &cy,
        &actor(&cy),
        &draft("hello", "From the team"),
        true,
    )
    .await
    .unwrap();
    canned::create(store, &cy, &actor(&cy), &draft("Bye", "Bye!"), true)
        .await
        .unwrap();

    let seen = |list: Vec<canned::Reply>| -> Vec<(String, bool)> {
        list.into_iter().map(|r| (r.shortcut, r.shared)).collect()
    };
    assert_eq!(
        seen(canned::list(store, &ana).await.unwrap()),
        [
            ("hello".into(), false),
            ("Bye".into(), true),
            ("hello".into(), true)
        ],
        "her own first, then the shared ones by shortcut in any case"
    );
    let theirs = canned::get(store, &ben, mine.id).await;
    assert!(matches!(theirs, Err(Error::NotFound(_))), "{theirs:?}");
    let change = canned::update(store, &ana, &actor(&ana), shared.id, None, Some("x".into())).await;
    assert!(matches!(change, Err(Error::NotAllowed(_))), "{change:?}");
    let renamed = canned::update(
        store,
        &cy,
        &actor(&cy),
        shared.id,
        Some("greet".into()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (renamed.shortcut.as_str(), renamed.body.as_str()),
        ("greet", "From the team")
    );
    canned::delete(store, &ana, &actor(&ana), mine.id)
        .await
        .unwrap();
    assert_eq!(
        seen(canned::list(store, &ana).await.unwrap()),
        [("Bye".into(), true), ("greet".into(), true)]
    );
    canned::list(store, &cy)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.shortcut, r.body, r.shared))
        .collect()
}

#[tokio::test]
async fn canned_replies_follow_the_same_rules_on_both_engines() {
    let (_dir, sqlite, postgres) = both().await;
    sqlx::raw_sql(ROWS).execute(&sqlite).await.unwrap();
    sqlx::raw_sql(ROWS).execute(&postgres).await.unwrap();

    let lite = canned_rules(&store_sqlite::SqliteStore::new(sqlite.clone())).await;
    let pg = canned_rules(&store_postgres::PgStore::new(postgres.clone())).await;
    assert_eq!(pg, lite);

    // Changes to shared replies are audited, in the change's transaction, on both.
    let audited = "select action, actor from audit_log order by id";
    let lite: Vec<(String, String)> = sqlx::query_as(audited).fetch_all(&sqlite).await.unwrap();
    let pg: Vec<(String, String)> = sqlx::query_as(audited).fetch_all(&postgres).await.unwrap();
    let by_cy = |action: &str| (action.to_owned(), "3@example.com".to_owned());
    assert_eq!(
        lite,
        [
            by_cy("canned.create"),
            by_cy("canned.create"),
            by_cy("canned.update")
        ]
    );
    assert_eq!(pg, lite);
}

/// The labels' rules, through the persistence interface, on either engine; what each
/// ticket carried before the last label was deleted.
async fn label_rules(services: &backend::Services) -> Vec<(i64, Vec<String>)> {
    use backend::Error;
    use backend::labels;
    let admin = backend::users::User {
        id: 3,
        public_id: "usr_c".into(),
        email: "cy@example.com".into(),
        name: "Cy".into(),
        role: backend::users::Role::Admin,
        active: true,
    };
    let agent = backend::users::User {
        id: 1,
        role: backend::users::Role::Agent,
        ..admin.clone()
    };
    let actor = backend::audit::Actor {
        id: Some(3),
        label: "cy@example.com".into(),
        ip: None,
    };
    let store = &*services.store;

    let refund = labels::create(store, &admin, &actor, "Refund", "#aa3300")
        .await
        .unwrap();
    let urgent = labels::create(store, &admin, &actor, "urgent", "#ff0000")
        .await
        .unwrap();
    let twice = labels::create(store, &admin, &actor, "REFUND", "#000000").await;
    assert!(
        matches!(&twice, Err(Error::Conflict(m)) if m.contains("already exists")),
        "{twice:?}"
    );
    let by_agent = labels::create(store, &agent, &actor, "Mine", "#000000").await;
    assert!(
        matches!(by_agent, Err(Error::NotAllowed(_))),
        "{by_agent:?}"
    );
    let names: Vec<String> = labels::list(store)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["Refund", "urgent"], "by name in any case");

    assert!(labels::add(services, &agent, 1, refund.id).await.unwrap());
    assert!(
        !labels::add(services, &agent, 1, refund.id).await.unwrap(),
        "already there"
    );
    assert!(labels::add(services, &agent, 1, urgent.id).await.unwrap());
    assert!(
        labels::remove(services, &agent, 1, urgent.id)
            .await
            .unwrap()
    );
    assert!(
        !labels::remove(services, &agent, 1, urgent.id)
            .await
            .unwrap(),
        "not there"
    );
    let missing = labels::add(services, &agent, 99, refund.id).await;
    assert!(
        matches!(missing, Err(Error::NotFound("ticket"))),
        "{missing:?}"
    );

    let renamed = labels::update(
        services,
        &admin,
        &actor,
        refund.id,
        Some("Refunds".into()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.colour.as_str()),
        ("Refunds", "#aa3300")
    );
    let clash = labels::update(
        services,
        &admin,
        &actor,
        urgent.id,
        Some("refunds".into()),
        None,
    )
    .await;
    assert!(matches!(clash, Err(Error::Conflict(_))), "{clash:?}");
    assert!(labels::add(services, &agent, 1, urgent.id).await.unwrap());

    let carried = labels::of_tickets(store, &[1, 2]).await.unwrap();
    let carried: Vec<(i64, Vec<String>)> = [1, 2]
        .into_iter()
        .map(|t| {
            let names = carried
                .get(&t)
                .into_iter()
                .flatten()
                .map(|l| l.name.clone())
                .collect();
            (t, names)
        })
        .collect();
    assert_eq!(
        carried,
        [(1, vec!["Refunds".into(), "urgent".into()]), (2, vec![])]
    );
    labels::delete(services, &admin, &actor, urgent.id)
        .await
        .unwrap();
    let after = labels::of_tickets(store, &[1]).await.unwrap();
    let names: Vec<&str> = after[&1].iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Refunds"], "a deleted label is off every ticket");

    carried
}

/// Both engines holding `rows`, each behind the domain's `Services`: the second's
/// store is PostgreSQL (what is not ported yet still reaches the SQLite file).
struct Engines {
    _dir: tempfile::TempDir,
    sqlite: SqlitePool,
    postgres: PgPool,
    on_sqlite: backend::Services,
    on_postgres: backend::Services,
}

impl Engines {
    /// The rows a query returns on SQLite, after checking PostgreSQL returns the same.
    async fn same<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + PartialEq
            + std::fmt::Debug
            + Send
            + Unpin,
    {
        let lite: Vec<T> = sqlx::query_as(sql).fetch_all(&self.sqlite).await.unwrap();
        let pg: Vec<T> = sqlx::query_as(sql).fetch_all(&self.postgres).await.unwrap();
        assert_eq!(pg, lite, "{sql}");
        lite
    }

    /// The audit log's actions, the same on both engines.
    async fn audited(&self) -> Vec<String> {
        let rows: Vec<(String,)> = self.same("select action from audit_log order by id").await;
        rows.into_iter().map(|(a,)| a).collect()
    }
}

async fn engines(rows: &[&str]) -> Engines {
    let (dir, sqlite, postgres) = both().await;
    for r in rows {
        sqlx::raw_sql(r).execute(&sqlite).await.unwrap();
        sqlx::raw_sql(r).execute(&postgres).await.unwrap();
    }
    // The rows name their ids; PostgreSQL's identities must then start past them, as
    // SQLite's rowids do.
    sqlx::raw_sql(
        "do $$
         declare t text;
         begin
           for t in select table_name from information_schema.columns
                    where table_schema = current_schema() and column_name = 'id'
                      and is_identity = 'YES'
           loop
             execute format(
               'select setval(pg_get_serial_sequence(%L, ''id''), coalesce(max(id), 1),
                              max(id) is not null) from %I', t, t);
           end loop;
         end $$",
    )
    .execute(&postgres)
    .await
    .unwrap();
    let settings = backend::Settings::default();
    let on_sqlite = backend::Services::new(sqlite.clone(), settings.clone()).unwrap();
    let mut on_postgres = backend::Services::new(sqlite.clone(), settings).unwrap();
    on_postgres.store = std::sync::Arc::new(store_postgres::PgStore::new(postgres.clone()));
    Engines {
        _dir: dir,
        sqlite,
        postgres,
        on_sqlite,
        on_postgres,
    }
}

#[tokio::test]
async fn labels_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS]).await;
    let lite = label_rules(&e.on_sqlite).await;
    assert_eq!(label_rules(&e.on_postgres).await, lite);

    // The transcript's lines and the audit log, written in each change's transaction.
    let lines: Vec<(String, Option<String>)> = e
        .same("select action, detail from ticket_activity order by id")
        .await;
    let line = |action: &str, label: &str| (action.to_owned(), Some(label.to_owned()));
    assert_eq!(
        lines,
        [
            line("labelled", "Refund"),
            line("labelled", "urgent"),
            line("unlabelled", "urgent"),
            line("labelled", "urgent"),
        ]
    );
    assert_eq!(
        e.audited().await,
        [
            "label.create",
            "label.create",
            "label.update",
            "label.delete"
        ]
    );
}

/// Customers and notes on ticket 1, for the tests below.
const PEOPLE_ROWS: &str = "
insert into customers (id, public_id, connection_id, name, email, created_at, updated_at)
    values (1, 'cus_dana', 1, 'Dana', 'dana@example.com', 0, 0),
           (2, 'cus_twice', 1, null, null, 0, 0),
           (3, 'cus_twice', 2, null, null, 0, 0);
update tickets set customer_id = 1, assignee_id = 2, status = 'assigned' where id = 1;
insert into messages (id, ticket_id, origin, type, payload, customer_id, created_at)
    values (4, 1, 'customer', 'text', '{\"text\": \"hi\", \"userId\": 42}', 1, 0),
           (5, 1, 'customer', 'text', '{\"text\": \"again\", \"userId\": \"user_proxy\"}', 1, 0),
           (6, 1, 'customer', 'text', '{\"text\": \"last\"}', 1, 0);
";

fn person(id: i64, name: &str, role: backend::users::Role) -> backend::users::User {
    backend::users::User {
        id,
        public_id: format!("usr_{}", name.to_lowercase()),
        email: format!("{}@example.com", name.to_lowercase()),
        name: name.into(),
        role,
        active: true,
    }
}

/// Notes on a ticket, with mentions: what each engine keeps and answers.
async fn note_rules(services: &backend::Services) -> Vec<(String, Vec<String>, String)> {
    use backend::tickets::notes;
    let ana = person(1, "Ana", backend::users::Role::Agent);
    let store = &*services.store;
    let first = notes::add(services, 1, &ana, "  @Cy and @ben@example.com, look. @Ana ")
        .await
        .unwrap();
    assert_eq!(first.text, "@Cy and @ben@example.com, look. @Ana");
    assert_eq!(first.mentions, ["Ben", "Cy"], "never the author");
    notes::add(services, 1, &ana, "Nobody mentioned")
        .await
        .unwrap();
    assert!(matches!(
        notes::add(services, 1, &ana, " \n ").await,
        Err(backend::Error::Invalid(_))
    ));
    assert!(matches!(
        notes::add(services, 99, &ana, "lost").await,
        Err(backend::Error::NotFound("ticket"))
    ));
    assert!(notes::unseen_mention(store, 2, 1).await.unwrap());
    assert!(!notes::unseen_mention(store, 1, 1).await.unwrap());
    assert!(notes::since(store, 1, i64::MAX).await.unwrap().is_empty());
    notes::all(store, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.text, n.mentions, n.author_public_id))
        .collect()
}

#[tokio::test]
async fn notes_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, PEOPLE_ROWS]).await;
    let lite = note_rules(&e.on_sqlite).await;
    assert_eq!(lite.len(), 2);
    assert_eq!(note_rules(&e.on_postgres).await, lite);
    let mentions: Vec<(i64, i64, i64)> = e
        .same("select note_id, user_id, ticket_id from note_mentions order by 1, 2")
        .await;
    assert_eq!(mentions, [(1, 2, 1), (1, 3, 1)]);
}

/// A customer's details, notes and tickets: what each engine keeps and answers.
async fn customer_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::customers::{self, Edit};
    let store = &*services.store;
    let actor = backend::audit::Actor {
        id: Some(1),
        label: "ana@example.com".into(),
        ip: None,
    };
    let dana = customers::find(store, "cus_dana").await.unwrap();
    assert!(matches!(
        customers::find(store, "cus_twice").await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        customers::find(store, "cus_nobody").await,
        Err(Error::NotFound("customer"))
    ));
    let edit = Edit {
        name: Some(" Dana Smith ".into()),
        phone: Some("+33 1 23".into()),
        company: None,
    };
    let edited = customers::update(services, &actor, dana, &edit)
        .await
        .unwrap();
    assert_eq!(edited.name.as_deref(), Some("Dana Smith"));
    assert!(edited.edited_at.is_some());
    let clear = Edit {
        phone: Some(String::new()),
        ..Edit::default()
    };
    let cleared = customers::update(services, &actor, dana, &clear)
        .await
        .unwrap();
    assert_eq!(
        (cleared.name.as_deref(), cleared.phone),
        (Some("Dana Smith"), None)
    );
    assert!(matches!(
        customers::update(services, &actor, 99, &clear).await,
        Err(Error::NotFound("customer"))
    ));
    let ana = person(1, "Ana", backend::users::Role::Agent);
    customers::add_note(services, &ana, dana, "VIP")
        .await
        .unwrap();
    customers::add_note(services, &ana, dana, "Prefers email")
        .await
        .unwrap();
    assert!(matches!(
        customers::add_note(services, &ana, 99, "lost").await,
        Err(Error::NotFound("customer"))
    ));
    let p = customers::profile(store, dana).await.unwrap();
    let proxy = store
        .read()
        .await
        .unwrap()
        .customer_botpress_user_id(dana)
        .await
        .unwrap();
    assert_eq!(
        proxy.as_deref(),
        Some("user_proxy"),
        "the latest text userId"
    );
    let mut seen = vec![format!(
        "{} {:?} {:?} {:?} {:?} {}",
        p.customer.id,
        p.customer.name,
        p.customer.email,
        p.customer.phone,
        p.customer.connection,
        p.botpress_linked
    )];
    seen.extend(
        p.tickets
            .iter()
            .map(|t| format!("{} {} {:?}", t.id, t.status, t.agent)),
    );
    seen.extend(p.notes.iter().map(|n| format!("{}: {}", n.author, n.text)));
    seen
}

#[tokio::test]
async fn customers_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, PEOPLE_ROWS]).await;
    let lite = customer_rules(&e.on_sqlite).await;
    let pg = customer_rules(&e.on_postgres).await;
    assert_eq!(
        lite,
        [
            "cus_dana Some(\"Dana Smith\") Some(\"dana@example.com\") None \"Support\" false",
            "conv_1 assigned Some(\"Ben\")",
            "Ana: Prefers email",
            "Ana: VIP",
        ]
    );
    assert_eq!(pg, lite);
    // Personal data: each edit is audited, on either engine.
    assert_eq!(e.audited().await, ["customer.update", "customer.update"]);
}

/// Teams: names unique in any case, memberships replaced whole, unknown ids refused
/// with nothing written.
async fn team_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::routing::teams::{self, Edit};
    let admin = person(3, "Cy", backend::users::Role::Admin);
    let agent = person(1, "Ana", backend::users::Role::Agent);
    let actor = backend::audit::Actor {
        id: Some(3),
        label: "cy@example.com".into(),
        ip: None,
    };
    let store = &*services.store;
    let edit = |name: &str, agents: &[i64], connections: &[i64]| Edit {
        name: name.into(),
        agents: agents.to_vec(),
        connections: connections.to_vec(),
    };
    assert!(matches!(
        teams::create(services, &agent, &actor, edit("Mine", &[], &[])).await,
        Err(Error::NotAllowed(_))
    ));
    let support = teams::create(services, &admin, &actor, edit("Support", &[2, 1, 2], &[1]))
        .await
        .unwrap();
    assert_eq!(
        support
            .agents
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["Ana", "Ben"],
        "by name, once each"
    );
    assert!(matches!(
        teams::create(services, &admin, &actor, edit("SALES TEAM", &[], &[])).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        teams::create(services, &admin, &actor, edit("Ghosts", &[99], &[])).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        teams::update(
            services,
            &admin,
            &actor,
            support.id,
            edit("Support", &[1], &[42])
        )
        .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        teams::update(services, &admin, &actor, 99, edit("Nobody", &[], &[])).await,
        Err(Error::NotFound("team"))
    ));
    teams::update(
        services,
        &admin,
        &actor,
        support.id,
        edit("aSupport", &[1], &[1, 2]),
    )
    .await
    .unwrap();
    let before_delete: Vec<String> = teams::list(store)
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            let agents: Vec<String> = t.agents.into_iter().map(|a| a.public_id).collect();
            let bots: Vec<String> = t.connections.into_iter().map(|c| c.name).collect();
            format!("{}: {agents:?} {bots:?}", t.name)
        })
        .collect();
    let sales = teams::list(store).await.unwrap()[1].id;
    teams::delete(services, &admin, &actor, sales)
        .await
        .unwrap();
    assert!(matches!(
        teams::get(store, sales).await,
        Err(Error::NotFound("team"))
    ));
    before_delete
}

#[tokio::test]
async fn teams_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS]).await;
    let lite = team_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "aSupport: [\"usr_a\"] [\"Sales\", \"Support\"]",
            "Sales team: [\"usr_b\"] [\"Sales\"]",
        ]
    );
    assert_eq!(team_rules(&e.on_postgres).await, lite);
    // What stays: the renamed team, and who sees which bot through it.
    let visible: Vec<(i64, i64)> = e
        .same("select connection_id, user_id from visible_connections order by 1, 2")
        .await;
    assert_eq!(visible, [(1, 1), (1, 3), (2, 1), (2, 3)]);
    assert_eq!(
        e.audited().await,
        ["team.create", "team.update", "team.delete"]
    );
}

/// Ben has a password already; Dee is deactivated.
const LINK_ROWS: &str = "
update users set password_hash = 'not a real hash' where id = 2;
insert into users (id, public_id, email, name, role, active, created_at)
    values (4, 'usr_d', 'dee@example.com', 'Dee', 'agent', false, 0);
";

/// Invitation and reset links: one live link per account, spent once.
async fn link_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::accounts::links::{self, Purpose};
    let store = &*services.store;
    let first = links::issue(store, 1).await.unwrap();
    let invite = links::issue(store, 1).await.unwrap();
    assert!(
        matches!(links::peek(store, &first).await, Err(Error::Invalid(_))),
        "a newer link voids the older"
    );
    let info = links::peek(store, &invite).await.unwrap();
    assert_eq!(info.purpose, Purpose::Invite);
    let reset = links::issue(store, 2).await.unwrap();
    assert_eq!(
        links::peek(store, &reset).await.unwrap().purpose,
        Purpose::Reset
    );
    assert!(matches!(
        links::issue(store, 4).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        links::issue(store, 99).await,
        Err(Error::NotFound("user"))
    ));
    let email = links::complete(store, &invite, "a long enough passphrase".into())
        .await
        .unwrap();
    assert!(matches!(
        links::complete(store, &invite, "a long enough passphrase".into()).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        links::peek(store, "made-up").await,
        Err(Error::Invalid(_))
    ));
    vec![email, info.name, info.email]
}

#[tokio::test]
async fn links_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, LINK_ROWS]).await;
    let lite = link_rules(&e.on_sqlite).await;
    assert_eq!(lite, ["ana@example.com", "Ana", "ana@example.com"]);
    assert_eq!(link_rules(&e.on_postgres).await, lite);
    // Ana's password is set and her earlier sessions end; the spent and voided links
    // stay, spent.
    let state: Vec<(i64, bool, i64)> = e
        .same("select id, password_hash is not null, auth_epoch from users order by id")
        .await;
    assert_eq!(state[0], (1, true, 1));
    let spent: Vec<(String, bool)> = e
        .same("select purpose, used_at is not null from one_time_links order by id")
        .await;
    let row = |p: &str, used| (p.to_owned(), used);
    assert_eq!(
        spent,
        [
            row("invite", true),
            row("invite", true),
            row("reset", false)
        ]
    );
}
