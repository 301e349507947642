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
           -- What replicas share (realtime events, sign-in limits, who is alive
           -- with which sockets, files' bytes): SQLite's one process keeps it in
           -- memory or in its folder.
           and c.table_name not in ('events', 'sign_in_failures', 'sign_in_refusals',
                                    'replicas', 'replica_sockets', 'file_blobs')
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
    // Indexes that back a primary key or a unique constraint are the constraint's;
    // the search indexes are PostgreSQL's own way of what SQLite's FTS5 tables do.
    schema.indexes = sqlx::query_scalar(
        "select indexname::text from pg_indexes
         where schemaname = 'public'
           and indexname not in (select conname from pg_constraint where contype in ('p', 'u'))
           and indexname not in ('messages_search', 'notes_search', 'tickets_search',
                                 'customers_search', 'sign_in_failures_key')",
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
    on_postgres.writer =
        backend::db::writer::Writer::postgres(postgres.clone(), Default::default());
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
    // Ana (1) sees the Support bot only; Cy (3) is an admin.
    let dana = customers::find(store, 1, "cus_dana").await.unwrap();
    assert!(matches!(
        customers::find(store, 3, "cus_twice").await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        customers::find(store, 1, "cus_twice").await.unwrap(),
        2,
        "the one on a bot Ana sees; the Sales one does not exist for her"
    );
    assert!(matches!(
        customers::find(store, 1, "cus_nobody").await,
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
    let p = customers::profile(store, 1, dana).await.unwrap();
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

/// Ben holds tickets 1 and 2 (ticket 1 with an agent message still being delivered);
/// ticket 3 waits in the queue.
const LIFECYCLE_ROWS: &str = "
insert into tickets (id, connection_id, remote_id, status, assignee_id, created_at, updated_at)
    values (2, 2, 'conv_2', 'assigned', 2, 0, 0), (3, 1, 'conv_3', 'queued', null, 0, 0);
update tickets set status = 'assigned', assignee_id = 2 where id = 1;
insert into messages (id, ticket_id, origin, type, payload, delivery, created_at)
    values (7, 1, 'agent', 'text', '{\"text\": \"On it\"}', 'pending', 0);
";

/// A ticket's status changes and the calls and audiences that come with them: what
/// each step answered, with the changes it published.
async fn lifecycle_rules(services: &backend::Services) -> Vec<String> {
    use backend::effects::Effects;
    use backend::outbox::{self, WebhookCall};
    use backend::tickets::lifecycle;
    use protocol::ticket::ClosedReason;
    let mut said = Vec::new();
    let mut tx = services.store.write().await.unwrap();
    let mut effects = Effects::new();
    let reply = WebhookCall::MessageFromAgent {
        conversation: "conv_1".into(),
        agent: "usr_b".into(),
        kind: "text".into(),
        payload: serde_json::json!({"text": "On it"}),
        message: 7,
    };
    outbox::enqueue(&mut *tx, &mut effects, 1, &reply, 10)
        .await
        .unwrap();
    let stop = WebhookCall::Stop {
        conversation: "conv_3".into(),
    };
    outbox::enqueue(&mut *tx, &mut effects, 3, &stop, 10)
        .await
        .unwrap();
    // The customer ended ticket 1: its undelivered reply is failed, not sent.
    let bot = ClosedReason::BotClosed;
    said.push(format!(
        "closed: {}",
        lifecycle::close(&mut *tx, &mut effects, 1, bot, 20)
            .await
            .unwrap()
    ));
    said.push(format!(
        "again: {}",
        lifecycle::close(&mut *tx, &mut effects, 1, bot, 21)
            .await
            .unwrap()
    ));
    // An agent hands ticket 3 back: its call stays queued.
    let back = ClosedReason::HandedBack;
    lifecycle::close(&mut *tx, &mut effects, 3, back, 22)
        .await
        .unwrap();
    said.push(format!(
        "reopened: {}",
        lifecycle::reopen(&mut *tx, &mut effects, 1, 30)
            .await
            .unwrap()
    ));
    said.push(format!(
        "open: {}",
        lifecycle::reopen(&mut *tx, &mut effects, 1, 31)
            .await
            .unwrap()
    ));
    said.push(format!(
        "requeued: {}",
        lifecycle::requeue_held_by(&mut *tx, &mut effects, 2, 40)
            .await
            .unwrap()
    ));
    for connection in [1, 2] {
        let audience = backend::routing::audience(&mut *tx, connection)
            .await
            .unwrap();
        said.push(format!("audience {connection}: {audience:?}"));
    }
    for (user, connection) in [(1, 2), (2, 2), (3, 2), (1, 1)] {
        let sees = backend::routing::sees(&mut *tx, user, connection)
            .await
            .unwrap();
        said.push(format!("{user} sees {connection}: {sees}"));
    }
    tx.commit().await.unwrap();
    said.push(format!("{effects:?}"));
    said
}

#[tokio::test]
async fn ticket_status_changes_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, LIFECYCLE_ROWS]).await;
    let lite = lifecycle_rules(&e.on_sqlite).await;
    assert_eq!(
        lite[..11],
        [
            "closed: true",
            "again: false",
            "reopened: true",
            "open: false",
            "requeued: 1",
            "audience 1: None",
            // Ben through the Sales team, and Cy as an admin.
            "audience 2: Some([2, 3])",
            "1 sees 2: false",
            "2 sees 2: true",
            "3 sees 2: true",
            "1 sees 1: true",
        ]
    );
    assert_eq!(lifecycle_rules(&e.on_postgres).await, lite);

    type TicketRow = (
        i64,
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let tickets: Vec<TicketRow> = e
        .same(
            "select id, status, assignee_id, closed_reason, closed_at, queued_at
             from tickets order by id",
        )
        .await;
    assert_eq!(
        tickets,
        [
            (1, "queued".into(), None, None, None, Some(30)),
            (2, "queued".into(), None, None, None, Some(40)),
            (
                3,
                "closed".into(),
                None,
                Some("handed_back".into()),
                Some(22),
                None
            ),
        ]
    );
    // The reply Botpress would have dropped failed with the reason; the hand-back's
    // call still goes.
    type CallRow = (String, i64, Option<i64>, String, Option<String>);
    let calls: Vec<CallRow> = e
        .same("select route, ticket_id, message_id, state, last_error from outbox order by id")
        .await;
    let ended = "the conversation ended before this was delivered";
    assert_eq!(
        calls,
        [
            (
                "message-from-agent".into(),
                1,
                Some(7),
                "failed".into(),
                Some(ended.into())
            ),
            ("stop-hitl".into(), 3, None, "pending".into(), None),
        ]
    );
    let delivery: Vec<(Option<String>, Option<String>)> = e
        .same("select delivery, delivery_error from messages where id = 7")
        .await;
    assert_eq!(delivery, [(Some("failed".into()), Some(ended.into()))]);
    let lines: Vec<(i64, String)> = e
        .same("select ticket_id, action from ticket_activity order by id")
        .await;
    assert_eq!(lines, [(1, "reopened".into())]);
    assert_eq!(e.audited().await, ["ticket.reopen"]);
}

/// Accounts: sign-in, tokens, the epoch, deactivation, the last admin, settings, the
/// first-run setup link. What each step answered.
async fn account_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::accounts::{self, NotificationSettings, people, setup};
    use backend::users::Role;
    use protocol::account::Availability;
    let store = &*services.store;
    let mut said = Vec::new();
    let mut say = |what: String| said.push(what);

    // The first-run link works only while there is no account.
    let link = setup::issue(store).await.unwrap();
    say(format!(
        "setup usable with accounts: {}",
        setup::usable(store, &link).await.unwrap()
    ));
    let refused = setup::complete(
        store,
        &link,
        "x@example.com",
        "X",
        "long enough pass".into(),
    )
    .await;
    say(format!(
        "setup completed with accounts: {}",
        refused.is_ok()
    ));

    // Emails are one address in any letter case.
    let taken =
        accounts::create_user(store, "ANA@example.com", "Ana again", Role::Agent, None).await;
    say(format!(
        "ANA@ taken: {}",
        matches!(taken, Err(Error::Conflict(_)))
    ));
    let dee = accounts::create_user(
        store,
        "dee@example.com",
        "Dee",
        Role::Admin,
        Some("dee's passphrase".into()),
    )
    .await
    .unwrap();
    say(format!(
        "found: {}",
        accounts::find_by_email(store, " DEE@Example.com ")
            .await
            .unwrap()
            .name
    ));
    let signed = accounts::authenticate(store, "Dee@example.com", "dee's passphrase".into())
        .await
        .unwrap();
    say(format!(
        "signed in: {:?}",
        signed.map(|c| (c.user.name, c.auth_epoch))
    ));
    let wrong = accounts::authenticate(store, "dee@example.com", "not it".into())
        .await
        .unwrap();
    say(format!("wrong password: {}", wrong.is_none()));

    // Tokens live until revoked or until the epoch moves on.
    let (first, first_secret) = accounts::create_token(store, dee.id, "one").await.unwrap();
    let (_, second_secret) = accounts::create_token(store, dee.id, " two ")
        .await
        .unwrap();
    let who = accounts::authenticate_token(store, &first_secret)
        .await
        .unwrap();
    say(format!("token is: {:?}", who.map(|u| u.name)));
    accounts::revoke_token(store, dee.id, first).await.unwrap();
    let again = accounts::revoke_token(store, dee.id, first).await;
    say(format!(
        "revoked twice: {}",
        matches!(again, Err(Error::NotFound(_)))
    ));
    let live: Vec<String> = accounts::list_tokens(store, dee.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.label)
        .collect();
    say(format!("live tokens: {live:?}"));
    let wrong =
        accounts::change_own_password(store, dee.id, "not it".into(), "a new passphrase".into())
            .await;
    say(format!(
        "change with a wrong password: {}",
        matches!(wrong, Err(Error::Invalid(_)))
    ));
    accounts::change_own_password(
        store,
        dee.id,
        "dee's passphrase".into(),
        "a new passphrase".into(),
    )
    .await
    .unwrap();
    let old = accounts::authenticate_token(store, &second_secret)
        .await
        .unwrap();
    say(format!("token after a new password: {old:?}"));
    say(format!(
        "epoch: {:?}",
        accounts::current_epoch(store, dee.id).await.unwrap()
    ));

    // Ben holds ticket 1; deactivating him puts it back, and ends his access.
    let requeued = accounts::deactivate(services, 2).await.unwrap();
    say(format!(
        "requeued: {requeued}, epoch {:?}",
        accounts::current_epoch(store, 2).await.unwrap()
    ));
    say(format!(
        "deactivated twice: {}",
        accounts::deactivate(services, 2).await.unwrap()
    ));
    accounts::reactivate(store, 2).await.unwrap();
    // Two admins (Cy, Dee): one may go, the last may not, nor be demoted.
    accounts::deactivate(services, dee.id).await.unwrap();
    let last = accounts::deactivate(services, 3).await;
    say(format!(
        "last admin deactivated: {}",
        !matches!(last, Err(Error::Conflict(_)))
    ));
    let demoted = people::update(store, 3, "Cy", Role::Agent).await;
    say(format!(
        "last admin demoted: {}",
        !matches!(demoted, Err(Error::Conflict(_)))
    ));
    people::update(store, 1, " Ana Lopez ", Role::Agent)
        .await
        .unwrap();

    // Settings and availability.
    let quiet = NotificationSettings {
        sound: false,
        desktop: true,
        when_focused: true,
    };
    accounts::set_notification_settings(store, 1, quiet)
        .await
        .unwrap();
    say(format!(
        "settings: {:?}",
        accounts::notification_settings(store, 1).await.unwrap()
    ));
    say(format!(
        "default settings: {:?}",
        accounts::notification_settings(store, 2).await.unwrap()
    ));
    let ana = backend::users::get(store, 1).await.unwrap();
    accounts::availability::set(services, &ana, Availability::Away)
        .await
        .unwrap();
    say(format!(
        "availability: {:?}",
        accounts::availability::get(store, 1).await.unwrap()
    ));
    services.last_seen.touch(store, 1).await.unwrap();

    let listed: Vec<String> = people::list(services)
        .await
        .unwrap()
        .into_iter()
        .map(|p| {
            format!(
                "{} {} active={} password={} open={} seen={}",
                p.name,
                p.role,
                p.active,
                p.has_password,
                p.open_tickets,
                p.last_seen_at.is_some()
            )
        })
        .collect();
    say(format!("people: {listed:#?}"));
    said
}

#[tokio::test]
async fn accounts_follow_the_same_rules_on_both_engines() {
    let e = engines(&[
        ROWS,
        "update tickets set status = 'assigned', assignee_id = 2 where id = 1;",
    ])
    .await;
    let lite = account_rules(&e.on_sqlite).await;
    let people = "people: [
    \"Ana Lopez agent active=true password=false open=0 seen=true\",
    \"Ben agent active=true password=false open=0 seen=false\",
    \"Cy admin active=true password=false open=0 seen=false\",
    \"Dee admin active=false password=true open=0 seen=false\",
]";
    assert_eq!(
        lite,
        [
            "setup usable with accounts: false",
            "setup completed with accounts: false",
            "ANA@ taken: true",
            "found: Dee",
            "signed in: Some((\"Dee\", 0))",
            "wrong password: true",
            "token is: Some(\"Dee\")",
            "revoked twice: true",
            "live tokens: [\"two\"]",
            "change with a wrong password: true",
            "token after a new password: None",
            "epoch: Some(1)",
            "requeued: 1, epoch None",
            "deactivated twice: 0",
            "last admin deactivated: false",
            "last admin demoted: false",
            "settings: NotificationSettings { sound: false, desktop: true, when_focused: true }",
            "default settings: NotificationSettings { sound: true, desktop: true, when_focused: false }",
            "availability: Away",
            people,
        ]
    );
    assert_eq!(account_rules(&e.on_postgres).await, lite);
    // Ben's and Dee's access ended (their epochs moved on); Ben's ticket waits again.
    let epochs: Vec<(String, i64, bool)> = e
        .same("select name, auth_epoch, active from users order by id")
        .await;
    let row = |n: &str, epoch, active| (n.to_owned(), epoch, active);
    assert_eq!(
        epochs,
        [
            row("Ana Lopez", 0, true),
            row("Ben", 1, true),
            row("Cy", 0, true),
            row("Dee", 2, false),
        ]
    );
    let ticket: Vec<(String, Option<i64>)> =
        e.same("select status, assignee_id from tickets").await;
    assert_eq!(ticket, [("queued".to_owned(), None)]);
}

const CLOSE_ROWS: &str = "
insert into close_requests (id, connection_id, botpress_conversation_id, received_at, state, last_error)
    values (1, 1, 'bp_old', 5, 'unmapped', 'no ticket has it'),
           (2, 1, 'bp_new', 6, 'pending', null),
           (3, 1, 'bp_done', 7, 'mapped', null),
           (4, 2, 'bp_other', 8, 'pending', null);
";

/// Connections: names unique in any case, the endpoint token and its rotation, the
/// write-only secrets, the end notice, unmapped closes and outbound health.
async fn connection_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::connections::{self, Edit, NewConnection};
    let store = &*services.store;
    let mut said = Vec::new();
    let new = |name: &str| NewConnection {
        name: name.into(),
        webhook_url: "https://webhook.example.com/abc/".into(),
        botpress_bot_id: Some(" bot_1 ".into()),
        botpress_token: Some("bp_pat_1".into()),
    };
    let taken = connections::create(store, new("SUPPORT")).await;
    said.push(format!(
        "SUPPORT taken: {}",
        matches!(taken, Err(Error::Conflict(_)))
    ));
    let keyed = connections::create(store, new(" Billing ")).await.unwrap();
    let id = keyed.connection.id;
    said.push(format!(
        "created: {:?}",
        (
            &keyed.connection.name,
            keyed.connection.has_api_token,
            &keyed.connection.botpress_bot_id
        )
    ));
    said.push(format!(
        "found: {}",
        connections::find_by_name(store, "billing")
            .await
            .unwrap()
            .id
            == id
    ));
    let token = keyed.endpoint_token.clone();
    said.push(format!(
        "token is for it: {}",
        connections::authenticate(store, &token)
            .await
            .unwrap()
            .map(|e| e.id)
            == Some(id)
    ));
    said.push(format!(
        "a wrong token: {:?}",
        connections::authenticate(store, "nope").await.unwrap()
    ));
    let rotated = connections::rotate_token(store, id).await.unwrap();
    said.push(format!(
        "old token after rotation: {:?}",
        connections::authenticate(store, &token).await.unwrap()
    ));
    said.push(format!(
        "new token: {}",
        connections::authenticate(store, &rotated.endpoint_token)
            .await
            .unwrap()
            .map(|e| e.id)
            == Some(id)
    ));
    said.push(format!(
        "stored token: {}",
        connections::endpoint_token(store, id).await.unwrap() == rotated.endpoint_token
    ));
    let secrets = connections::secrets(store, id).await.unwrap();
    said.push(format!(
        "secrets: {:?}",
        (&secrets.webhook_url, secrets.api_credentials())
    ));

    // An edit keeps what it leaves blank, and may clear the credentials.
    let edit = |name: &str, clear| Edit {
        name: name.into(),
        webhook_url: Some(" ".into()),
        botpress_bot_id: None,
        botpress_token: Some("bp_pat_2".into()),
        clear_api_credentials: clear,
        end_notice_text: " Session over ".into(),
    };
    said.push(format!(
        "edit changed credentials: {:?}",
        connections::update(store, id, edit("Billing bot", false))
            .await
            .unwrap()
    ));
    let clash = connections::update(store, id, edit("sales", false)).await;
    said.push(format!(
        "renamed onto Sales: {}",
        matches!(clash, Err(Error::Conflict(_)))
    ));
    let secrets = connections::secrets(store, id).await.unwrap();
    said.push(format!(
        "after edit: {:?}",
        (&secrets.webhook_url, secrets.api_credentials())
    ));
    said.push(format!(
        "cleared: {:?}",
        connections::update(store, id, edit("Billing bot", true))
            .await
            .unwrap()
    ));
    said.push(format!(
        "half set: {:?}",
        connections::set_api_credentials(store, id, Some("bot_9".into()), Some(" ".into()))
            .await
            .unwrap()
    ));
    let bad = connections::set_end_notice(store, id, "  ").await;
    said.push(format!(
        "blank notice: {}",
        matches!(bad, Err(Error::Invalid(_)))
    ));
    connections::set_end_notice(store, 1, " (ended) ")
        .await
        .unwrap();
    let missing = connections::set_end_notice(store, 99, "x").await;
    said.push(format!(
        "no such connection: {}",
        matches!(missing, Err(Error::NotFound(_)))
    ));

    connections::record_outbound(store, 1, None).await.unwrap();
    connections::record_outbound(store, 2, Some("503 from the bot"))
        .await
        .unwrap();
    let closes: Vec<String> = connections::unmapped_closes(store, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            format!(
                "{} {} {:?}",
                c.botpress_conversation_id, c.state, c.last_error
            )
        })
        .collect();
    said.push(format!("unmapped: {closes:?}"));
    for c in connections::list(store).await.unwrap() {
        said.push(format!(
            "{}: notice {:?}, api {}, ok {}, error {:?}",
            c.name,
            c.end_notice_text,
            c.has_api_token,
            c.last_outbound_ok_at.is_some(),
            c.last_outbound_error
        ));
    }
    said
}

#[tokio::test]
async fn connections_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, CLOSE_ROWS]).await;
    let lite = connection_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "SUPPORT taken: true",
            "created: (\"Billing\", true, Some(\"bot_1\"))",
            "found: true",
            "token is for it: true",
            "a wrong token: None",
            "old token after rotation: None",
            "new token: true",
            "stored token: true",
            "secrets: (\"https://webhook.example.com/abc\", Some((\"bot_1\", \"bp_pat_1\")))",
            "edit changed credentials: true",
            "renamed onto Sales: true",
            "after edit: (\"https://webhook.example.com/abc\", Some((\"bot_1\", \"bp_pat_2\")))",
            "cleared: false",
            "half set: false",
            "blank notice: true",
            "no such connection: true",
            "unmapped: [\"bp_new pending None\", \"bp_old unmapped Some(\\\"no ticket has it\\\")\"]",
            "Billing bot: notice \"Session over\", api false, ok false, error None",
            "Sales: notice \"( The user has ended the session. )\", api false, ok false, \
             error Some(\"503 from the bot\")",
            "Support: notice \"(ended)\", api false, ok true, error None",
        ]
    );
    assert_eq!(connection_rules(&e.on_postgres).await, lite);
}

/// The Botpress endpoints, through the group-commit writer on SQLite and a
/// transaction per write on PostgreSQL: customers, tickets, messages (recovered ones
/// too), the end notice, close requests matched by end notice and by a known id, a
/// reopen, and media queued. What each step answered, without the random ids.
async fn inbound_rules(services: &backend::Services) -> Vec<String> {
    use backend::botpress::inbound;
    use backend::botpress::wire::{self, Route};
    let mut said = Vec::new();
    inbound::ping(services, 1).await.unwrap();
    let user = |email: &str, name: &str| {
        let body = serde_json::json!({"type": "createRemoteUser", "payload": {"name": name, "email": email}});
        wire::parse::<wire::CreateRemoteUser>(Route::CreateRemoteUser, body.to_string().as_bytes())
            .unwrap()
            .payload
    };
    let dana = inbound::create_remote_user(services, 1, user("dana@example.com", "Dana"))
        .await
        .unwrap();
    let again = inbound::create_remote_user(services, 1, user("DANA@example.com", "Dana B"))
        .await
        .unwrap();
    said.push(format!("same customer in any case: {}", dana == again));
    let conversation = serde_json::json!({"type": "createRemoteConversation", "payload": {"title": "Order", "description": "Late"}});
    let conversation = wire::parse::<wire::CreateRemoteConversation>(
        Route::CreateRemoteConversation,
        conversation.to_string().as_bytes(),
    )
    .unwrap()
    .payload
    .unwrap();
    let ticket = inbound::create_remote_conversation(services, 1, conversation)
        .await
        .unwrap();
    let message = |ticket: &str, user: &str, payload: serde_json::Value| {
        let body = serde_json::json!({"type": "botSendsMessage", "remoteConversationId": ticket, "remoteUserId": user, "payload": payload});
        wire::parse::<wire::BotSendsMessage>(Route::BotSendsMessage, body.to_string().as_bytes())
            .unwrap()
    };
    let send = |m| inbound::bot_sends_message(services, 1, m);
    send(message(
        &ticket,
        &dana,
        serde_json::json!({"type": "text", "text": "Où est ma commande ?"}),
    ))
    .await
    .unwrap();
    send(message(
        &ticket,
        &dana,
        serde_json::json!({"type": "image", "imageUrl": "https://cdn.example.com/a.png"}),
    ))
    .await
    .unwrap();
    // The bot's end notice closes the ticket, and the close that follows pairs with it.
    send(message(
        &ticket,
        "BOT",
        serde_json::json!({"type": "text", "text": " ( The user has ended the session. ) "}),
    ))
    .await
    .unwrap();
    let close = |id: &str| {
        let body = serde_json::json!({"type": "closeRemoteTicket", "payload": {"botpressConversationId": id}});
        wire::parse::<wire::CloseRemoteTicket>(
            Route::CloseRemoteTicket,
            body.to_string().as_bytes(),
        )
        .unwrap()
    };
    inbound::close_remote_ticket(services, 1, close("bp_1"))
        .await
        .unwrap();
    inbound::close_remote_ticket(services, 1, close("bp_1"))
        .await
        .unwrap();
    inbound::close_remote_ticket(services, 1, close("bp_unknown"))
        .await
        .unwrap();
    // The customer writes again: back in the queue.
    send(message(
        &ticket,
        &dana,
        serde_json::json!({"type": "text", "text": "Still there?"}),
    ))
    .await
    .unwrap();
    // Botpress knows a conversation and a customer we do not: both are recovered.
    send(message(
        "tkt_lost",
        "cus_lost",
        serde_json::json!({"type": "text", "text": "hello?"}),
    ))
    .await
    .unwrap();
    let mut tx = services.store.write().await.unwrap();
    let remote = tx.ticket_remote_id(2).await.unwrap();
    said.push(format!(
        "the created ticket is 2: {}",
        remote.as_deref() == Some(ticket.as_str())
    ));
    // The media worker's side: what waits, then a stored copy the page links to.
    let pending = tx.media_pending(10).await.unwrap();
    let waiting: Vec<_> = pending
        .iter()
        .map(|p| (p.url.as_str(), p.ticket == ticket, p.message))
        .collect();
    said.push(format!("media waiting: {waiting:?}"));
    let copy = store::media::Stored {
        key: "k1",
        name: "a.png",
        content_type: "image/png",
        size: 3,
    };
    tx.media_stored(pending[0].id, &copy, 99).await.unwrap();
    tx.commit().await.unwrap();
    let copies = backend::media::copies(&*services.store, &[4, 5, 6])
        .await
        .unwrap();
    said.push(format!("copies: {copies:?}"));
    said
}

#[tokio::test]
async fn botpress_endpoints_store_the_same_on_both_engines() {
    let e = engines(&[ROWS]).await;
    let lite = inbound_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "same customer in any case: true",
            "the created ticket is 2: true",
            "media waiting: [(\"https://cdn.example.com/a.png\", true, 5)]",
            "copies: {\"https://cdn.example.com/a.png\": \"/files/k1/a.png\"}",
        ]
    );
    assert_eq!(inbound_rules(&e.on_postgres).await, lite);

    type TicketRow = (
        i64,
        String,
        String,
        Option<String>,
        bool,
        bool,
        Option<String>,
        i64,
        bool,
    );
    let tickets: Vec<TicketRow> = e
        .same(
            "select id, title, status, closed_reason, recovered, customer_id is not null,
                    botpress_conversation_id, message_count, end_notice_at is not null
             from tickets order by id",
        )
        .await;
    let row = |id, title: &str, bp: Option<&str>, count, noticed| {
        let recovered = id == 3;
        let bound = id != 1;
        let bp = bp.map(str::to_owned);
        (
            id,
            title.to_owned(),
            "queued".to_owned(),
            None,
            recovered,
            bound,
            bp,
            count,
            noticed,
        )
    };
    assert_eq!(
        tickets,
        [
            row(1, "", None, 0, false),
            // Closed by the end notice, matched to bp_1 by it, reopened by the customer;
            // three messages were the customer's.
            row(2, "Order", Some("bp_1"), 3, true),
            row(3, "Recovered conversation", None, 1, false),
        ]
    );
    let customers: Vec<(i64, Option<String>, Option<String>, bool)> = e
        .same("select id, name, email, recovered from customers order by id")
        .await;
    let dana = (
        1,
        Some("Dana B".into()),
        Some("dana@example.com".into()),
        false,
    );
    assert_eq!(customers, [dana, (2, None, None, true)]);
    let messages: Vec<(i64, String, String, Option<i64>)> = e
        .same("select ticket_id, origin, type, customer_id from messages where id > 3 order by id")
        .await;
    let said = |t, origin: &str, kind: &str, c| (t, origin.to_owned(), kind.to_owned(), c);
    assert_eq!(
        messages,
        [
            said(2, "customer", "text", Some(1)),
            said(2, "customer", "image", Some(1)),
            said(2, "system", "text", None),
            said(2, "customer", "text", Some(1)),
            said(3, "customer", "text", Some(2)),
        ]
    );
    let closes: Vec<(String, String, Option<String>, Option<i64>)> = e
        .same(
            "select botpress_conversation_id, state, mapped_by, ticket_id
             from close_requests order by id",
        )
        .await;
    let close = |bp: &str, state: &str, by: Option<&str>, t| {
        (bp.to_owned(), state.to_owned(), by.map(str::to_owned), t)
    };
    assert_eq!(
        closes,
        [
            close("bp_1", "mapped", Some("end_notice"), Some(2)),
            close("bp_1", "mapped", Some("known"), Some(2)),
            close("bp_unknown", "unmapped", None, None),
        ]
    );
    let media: Vec<(i64, String, String)> = e.same("select ticket_id, url, state from media").await;
    let image = (
        2,
        "https://cdn.example.com/a.png".to_owned(),
        "stored".to_owned(),
    );
    assert_eq!(media, [image]);
    let contact: Vec<(bool,)> = e
        .same("select last_inbound_at is not null from connections where id = 1")
        .await;
    assert_eq!(contact, [(true,)]);
    assert_eq!(e.audited().await, ["ticket.reopen"]);
}

/// Ticket 2 waits on the Sales bot (only Ben's team serves it); ticket 3 was created
/// and never written in.
const COMMAND_ROWS: &str = "
insert into tickets (id, connection_id, remote_id, created_at, updated_at)
    values (2, 2, 'conv_2', 5, 5), (3, 1, 'conv_3', 0, 0);
";

/// What people do to tickets: take, transfer, reply, resend, hand back, and the sweep
/// of abandoned ones, with who may and may not.
async fn command_rules(services: &backend::Services) -> Vec<String> {
    use backend::Error;
    use backend::tickets::{self, By};
    use backend::users::Role;
    let by = |id, name: &str, role| By::new(&person(id, name, role), None);
    let (ana, ben, cy) = (
        by(1, "Ana", Role::Agent),
        by(2, "Ben", Role::Agent),
        by(3, "Cy", Role::Admin),
    );
    fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
        match r {
            Ok(v) => format!("ok {v:?}"),
            Err(Error::NotAllowed(m)) => format!("not allowed: {m}"),
            Err(Error::Conflict(m)) => format!("conflict: {m}"),
            Err(e) => format!("{e:?}"),
        }
    }
    let text = serde_json::json!({"text": "On it"});
    vec![
        kind(tickets::assign(services, 1, 1, &ana).await),
        kind(tickets::assign(services, 1, 1, &ana).await),
        kind(tickets::assign(services, 1, 2, &ben).await),
        kind(tickets::assign(services, 2, 1, &ana).await),
        kind(tickets::assign(services, 1, 2, &cy).await),
        kind(tickets::send_message(services, 1, 1, "text", &text).await),
        kind(tickets::send_message(services, 1, 2, "text", &text).await),
        {
            // Botpress ended the session before the reply went: it failed.
            let mut tx = services.store.write().await.unwrap();
            backend::outbox::cancel_pending(&mut *tx, 1, "gone", 7)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            kind(tickets::resend(services, 4, &ana).await)
        },
        kind(tickets::resend(services, 4, &ben).await),
        kind(tickets::resend(services, 4, &ben).await),
        kind(tickets::hand_back(services, 1, &ben).await),
        kind(tickets::send_message(services, 1, 2, "text", &text).await),
        kind(tickets::close_abandoned(services, 1).await),
    ]
}

#[tokio::test]
async fn ticket_commands_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, COMMAND_ROWS]).await;
    let lite = command_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "ok true",
            "ok false",
            "not allowed: Ana holds this conversation: only they or an admin can take it over, \
             transfer it or close it",
            "not allowed: your teams do not serve this bot's conversations: ask an admin",
            "ok true",
            "not allowed: a colleague holds this conversation: only they can reply",
            "ok 4",
            "not allowed: only the agent who holds the ticket can resend its messages",
            "ok ()",
            "conflict: only a failed message can be resent",
            "ok ()",
            "conflict: the ticket is closed",
            "ok 1",
        ]
    );
    assert_eq!(command_rules(&e.on_postgres).await, lite);
    type TicketRow = (i64, String, Option<i64>, Option<String>, bool, i64);
    let tickets: Vec<TicketRow> = e
        .same(
            "select id, status, assignee_id, closed_reason, first_response_at is not null,
                    message_count
             from tickets order by id",
        )
        .await;
    let closed = |id, holder, reason: &str, replied, count| {
        (
            id,
            "closed".to_owned(),
            holder,
            Some(reason.to_owned()),
            replied,
            count,
        )
    };
    assert_eq!(
        tickets,
        [
            closed(1, Some(2), "handed_back", true, 1),
            (2, "queued".into(), None, None, false, 0),
            closed(3, None, "abandoned", false, 0),
        ]
    );
    let calls: Vec<(i64, String, Option<i64>, String)> = e
        .same("select ticket_id, route, message_id, state from outbox order by id")
        .await;
    let call = |t, route: &str, m, state: &str| (t, route.to_owned(), m, state.to_owned());
    assert_eq!(
        calls,
        [
            call(1, "agent-assigned", None, "failed"),
            call(1, "agent-assigned", None, "failed"),
            call(1, "message-from-agent", Some(4), "failed"),
            call(1, "message-from-agent", Some(4), "pending"),
            call(1, "stop-hitl", None, "pending"),
            call(3, "stop-hitl", None, "pending"),
        ]
    );
    let lines: Vec<(i64, String, Option<i64>, Option<i64>)> = e
        .same("select ticket_id, action, actor_id, other_id from ticket_activity order by id")
        .await;
    let line = |action: &str, actor, other| (1, action.to_owned(), Some(actor), other);
    assert_eq!(
        lines,
        [
            line("took", 1, None),
            line("transferred", 3, Some(2)),
            line("resent", 2, None),
            line("handed_back", 2, None),
        ]
    );
    assert_eq!(
        e.audited().await,
        [
            "ticket.take",
            "ticket.transfer",
            "ticket.resend",
            "ticket.hand_back"
        ]
    );
    let delivery: Vec<(i64, Option<String>)> = e
        .same("select id, delivery from messages where origin = 'agent' order by id")
        .await;
    assert_eq!(delivery, [(4, Some("pending".to_owned()))]);
}

/// Ticket 1 has no message yet (its calls are held 2 s from creation at 0); ticket 2
/// has had one; ticket 3 was created at 4 s. Calls 1 and 2 are ticket 1's, in order;
/// call 3 waits for a retry at 10 s; call 5 went already.
const OUTBOX_ROWS: &str = "
insert into tickets (id, connection_id, remote_id, first_inbound_at, created_at, updated_at)
    values (2, 1, 'conv_2', 1, 0, 0), (3, 2, 'conv_3', null, 4000, 4000);
insert into messages (id, ticket_id, origin, type, payload, delivery, created_at)
    values (4, 1, 'agent', 'text', '{\"text\": \"one\"}', 'pending', 0),
           (5, 1, 'agent', 'text', '{\"text\": \"two\"}', 'pending', 0);
insert into outbox (id, connection_id, ticket_id, message_id, route, body, state, next_attempt_at, created_at)
    values (1, 1, 1, 4, 'message-from-agent', '{\"a\": 1}', 'pending', 0, 0),
           (2, 1, 1, 5, 'message-from-agent', '{\"a\": 2}', 'pending', 0, 0),
           (3, 1, 2, null, 'agent-assigned', '{\"a\": 3}', 'pending', 10000, 0),
           (4, 2, 3, null, 'stop-hitl', '{\"a\": 4}', 'pending', 0, 4000),
           (5, 1, 2, null, 'agent-assigned', '{\"a\": 5}', 'sent', 0, 0);
";

/// The delivery worker's claims: one call per ticket at a time, in order, held until
/// Botpress has the session, retried, given up, and recovered after a stop.
async fn outbox_rules(services: &backend::Services) -> Vec<String> {
    let store = &*services.store;
    let mut said = Vec::new();
    let claim = |now| async move {
        let mut tx = store.write().await.unwrap();
        // Each claim is leased for a second.
        let rows = tx.outbox_claim(now, 2000, 10, now + 1000).await.unwrap();
        tx.commit().await.unwrap();
        rows.iter()
            .map(|c| {
                format!(
                    "{} {} {} {:?} attempt {}",
                    c.id,
                    c.remote_id,
                    c.route.path(),
                    c.message_id,
                    c.attempts
                )
            })
            .collect::<Vec<_>>()
    };
    let due = || async move {
        store
            .autocommit()
            .await
            .unwrap()
            .outbox_next_due(2000)
            .await
            .unwrap()
    };
    said.push(format!("at 5 s: {:?}", claim(5000).await));
    said.push(format!("next due: {:?}", due().await));
    said.push(format!("at 6 s: {:?}", claim(6000).await));
    let mut tx = store.write().await.unwrap();
    tx.outbox_sent(1, Some(4), 6100).await.unwrap();
    tx.outbox_retry(4, "503 from the bot", 9000).await.unwrap();
    tx.commit().await.unwrap();
    said.push(format!("after the first went: {:?}", claim(6200).await));
    said.push(format!("next due: {:?}", due().await));
    let mut tx = store.write().await.unwrap();
    tx.outbox_failed(2, Some(5), "400 from the bot", 6300)
        .await
        .unwrap();
    said.push(format!(
        "ended: {}",
        tx.ticket_ended_by_botpress(1).await.unwrap()
    ));
    tx.commit().await.unwrap();
    said.push(format!("at 10 s: {:?}", claim(10_000).await));
    // The process sending 3 and 4 dies. While their lease runs, they are its own;
    // once it has run out, the assignment may have landed and is failed, and the
    // hand-back, which is repeatable, is taken back.
    let recover = |now, all| async move {
        let mut tx = store.write().await.unwrap();
        let n = tx
            .outbox_recover_interrupted("stopped", now, all)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n
    };
    said.push(format!(
        "leased, recovered: {}",
        recover(10_500, false).await
    ));
    said.push(format!("leased, claimed: {:?}", claim(10_600).await));
    said.push(format!(
        "expired, recovered: {}",
        recover(11_000, false).await
    ));
    said.push(format!("after the lease: {:?}", claim(11_100).await));
    // The only process restarting takes back every call it was sending.
    said.push(format!(
        "at a restart, recovered: {}",
        recover(11_200, true).await
    ));
    said.push(format!("after a restart: {:?}", claim(11_300).await));
    said
}

#[tokio::test]
async fn outbox_claims_follow_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, OUTBOX_ROWS]).await;
    let lite = outbox_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            // Ticket 3 is held until 6 s, call 3 waits for 10 s, call 2 behind call 1.
            "at 5 s: [\"1 conv_1 message-from-agent Some(4) attempt 1\"]",
            "next due: Some(6000)",
            "at 6 s: [\"4 conv_3 stop-hitl None attempt 1\"]",
            "after the first went: [\"2 conv_1 message-from-agent Some(5) attempt 1\"]",
            "next due: Some(9000)",
            "ended: false",
            "at 10 s: [\"3 conv_2 agent-assigned None attempt 1\", \
             \"4 conv_3 stop-hitl None attempt 2\"]",
            "leased, recovered: 0",
            "leased, claimed: []",
            "expired, recovered: 2",
            "after the lease: [\"4 conv_3 stop-hitl None attempt 3\"]",
            "at a restart, recovered: 1",
            "after a restart: [\"4 conv_3 stop-hitl None attempt 4\"]",
        ]
    );
    assert_eq!(outbox_rules(&e.on_postgres).await, lite);
    let calls: Vec<(i64, String, i64, Option<String>)> = e
        .same("select id, state, attempts, last_error from outbox order by id")
        .await;
    let call = |id, state: &str, attempts, error: Option<&str>| {
        (id, state.to_owned(), attempts, error.map(str::to_owned))
    };
    assert_eq!(
        calls,
        [
            call(1, "sent", 1, None),
            call(2, "failed", 1, Some("400 from the bot")),
            call(3, "failed", 1, Some("stopped")),
            call(4, "sending", 4, Some("503 from the bot")),
            call(5, "sent", 0, None),
        ]
    );
    let messages: Vec<(i64, Option<String>, Option<String>, bool)> = e
        .same(
            "select id, delivery, delivery_error, sent_at is not null
             from messages where id > 3 order by id",
        )
        .await;
    let failed = (
        5,
        Some("failed".into()),
        Some("400 from the bot".into()),
        false,
    );
    assert_eq!(messages, [(4, Some("sent".into()), None, true), failed]);
}

/// Tickets 2 and 5 also wait on the Support bot; ticket 3 on the Sales bot, which
/// only Ben's team serves.
const ROUTING_ROWS: &str = "
insert into tickets (id, connection_id, remote_id, created_at, updated_at)
    values (2, 1, 'conv_2', 10, 10), (3, 2, 'conv_3', 20, 20), (5, 1, 'conv_5', 30, 30);
";

/// The router on both engines: hand-back of what nobody can take, automatic
/// assignment within capacity, queue positions, and the settings and capacity it
/// reads.
async fn routing_rules(services: &backend::Services) -> Vec<String> {
    use backend::auth::{Caller, Credential};
    use backend::routing::{self, Edit};
    use backend::users::Role;
    use protocol::routing::{Assignment, WhenUnavailable};
    let cy = person(3, "Cy", Role::Admin);
    let actor = backend::audit::Actor::cli();
    let automatic = Edit {
        assignment: Some(Assignment::Automatic),
        default_capacity: Some(1),
        queue_position_text: Some(Some("You are number {position}".into())),
        ..Edit::default()
    };
    routing::set(services, &cy, &actor, 1, automatic)
        .await
        .unwrap();
    let hand_back = Edit {
        when_unavailable: Some(WhenUnavailable::HandBack),
        unavailable_message: Some(" Nobody is here ".into()),
        wait_limit_minutes: Some(Some(30)),
        ..Edit::default()
    };
    let sales = routing::set(services, &cy, &actor, 2, hand_back)
        .await
        .unwrap();
    let mut said = vec![format!("{sales:?}")];
    // Ana and Cy have a tab open; Ben does not.
    for user in [person(1, "Ana", Role::Agent), cy.clone()] {
        let caller = Caller {
            user,
            epoch: 0,
            credential: Credential::Token(1),
        };
        let _ = services.hub.sockets().register(caller);
    }
    said.push(format!(
        "{:?}",
        routing::auto::route(services).await.unwrap()
    ));
    routing::set_capacity(services, &cy, &actor, 1, Some(2))
        .await
        .unwrap();
    said.push(format!(
        "capacity: {:?}",
        routing::capacity(&*services.store, 1).await.unwrap()
    ));
    said.push(format!(
        "{:?}",
        routing::auto::route(services).await.unwrap()
    ));
    said.push(format!(
        "{:?}",
        routing::auto::route(services).await.unwrap()
    ));
    said
}

#[tokio::test]
async fn routing_follows_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, ROUTING_ROWS]).await;
    let lite = routing_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "Routing { assignment: Manual, default_capacity: 3, hours: None, \
             when_unavailable: HandBack, unavailable_message: \"Nobody is here\", \
             wait_limit_minutes: Some(30), queue_position_text: None }",
            // Nobody ready serves the Sales bot: ticket 3 goes back. Ana and Cy take
            // one each (capacity 1); ticket 5 is told its place.
            "Pass { given: 2, returned: 1, told: 1 }",
            "capacity: Some(2)",
            "Pass { given: 1, returned: 0, told: 0 }",
            "Pass { given: 0, returned: 0, told: 0 }",
        ]
    );
    assert_eq!(routing_rules(&e.on_postgres).await, lite);
    type Routed = (i64, String, Option<i64>, Option<String>, Option<i64>, bool);
    let tickets: Vec<Routed> = e
        .same(
            "select id, status, assignee_id, closed_reason, told_position, screened
             from tickets order by id",
        )
        .await;
    let held = |id, by, told| (id, "assigned".to_owned(), Some(by), None, told, true);
    let back = (
        3,
        "closed".into(),
        None,
        Some("handed_back".into()),
        None,
        true,
    );
    assert_eq!(
        tickets,
        [
            held(1, 1, None),
            held(2, 3, None),
            back,
            held(5, 1, Some(1))
        ]
    );
    let calls: Vec<(i64, String)> = e
        .same("select ticket_id, route from outbox order by id")
        .await;
    let call = |t, route: &str| (t, route.to_owned());
    assert_eq!(
        calls,
        [
            call(3, "message-from-agent"),
            call(3, "stop-hitl"),
            call(1, "agent-assigned"),
            call(2, "agent-assigned"),
            call(5, "message-from-agent"),
            call(5, "agent-assigned"),
        ]
    );
    // What Baton told the customers (the bodies are JSON text in SQLite, jsonb here).
    let lite: Vec<(Option<String>,)> =
        sqlx::query_as("select json_extract(body, '$.payload.text') from outbox order by id")
            .fetch_all(&e.sqlite)
            .await
            .unwrap();
    let pg: Vec<(Option<String>,)> =
        sqlx::query_as("select body #>> '{payload,text}' from outbox order by id")
            .fetch_all(&e.postgres)
            .await
            .unwrap();
    assert_eq!(pg, lite);
    let text = |t: &str| (Some(t.to_owned()),);
    assert_eq!(
        lite,
        [
            text("Nobody is here"),
            (None,),
            (None,),
            (None,),
            text("You are number 1"),
            (None,),
        ]
    );
    assert_eq!(
        e.audited().await,
        [
            "connection.routing",
            "connection.routing",
            "ticket.return",
            "ticket.route",
            "ticket.route",
            "user.capacity",
            "ticket.route"
        ]
    );
}

/// Ticket 2 waits for its sync (due at 5 s); two close requests wait for an API
/// lookup; one is unmapped.
const SYNC_ROWS: &str = "
insert into tickets (id, connection_id, remote_id, customer_id, sync_state, sync_next_at, created_at, updated_at)
    values (2, 1, 'conv_2', null, 'pending', 5000, 100, 100),
           (3, 1, 'conv_3', null, 'failed', null, 100, 100),
           (4, 1, 'conv_4', null, 'none', null, 100, 100);
update tickets set botpress_conversation_id = 'bp_held' where id = 4;
insert into close_requests (id, connection_id, botpress_conversation_id, received_at, state, next_attempt_at)
    values (1, 1, 'bp_a', 10, 'pending', 4000), (2, 1, 'bp_b', 11, 'pending', 9000),
           (3, 1, 'bp_c', 12, 'unmapped', null);
";

/// What the Botpress sync worker reads and marks, on both engines.
async fn sync_rules(services: &backend::Services) -> Vec<String> {
    use protocol::ticket::Origin;
    use store::sync::TranscriptLine;
    let mut said = Vec::new();
    let mut tx = services.store.write().await.unwrap();
    said.push(format!("next due: {:?}", tx.sync_next_due().await.unwrap()));
    let closes: Vec<_> = tx
        .close_requests_due(6000, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.botpress_conversation_id)
        .collect();
    let syncs: Vec<_> = tx
        .tickets_sync_due(6000, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.remote_id)
        .collect();
    said.push(format!("due at 6 s: {closes:?} {syncs:?}"));
    said.push(format!(
        "by remote id: {:?}",
        tx.ticket_id_by_remote(1, "conv_2").await.unwrap()
    ));
    tx.close_request_retry(1, 20_000, "502 from Botpress")
        .await
        .unwrap();
    tx.close_request_failed_lookup(2, "not found")
        .await
        .unwrap();
    // bp_held is ticket 4's: ticket 2 does not take it.
    said.push(format!(
        "held by: {:?}",
        tx.ticket_holding_conversation(1, "bp_held", 2)
            .await
            .unwrap()
    ));
    tx.ticket_set_conversations(2, "bp_two", Some("up_two"))
        .await
        .unwrap();
    tx.ticket_set_conversations(2, "bp_other", None)
        .await
        .unwrap();
    tx.ticket_set_upstream(2, "up_other").await.unwrap();
    said.push(format!(
        "customer and created: {:?}",
        tx.ticket_customer_and_created(2).await.unwrap()
    ));
    for (id, origin) in [
        ("m1", Origin::TranscriptCustomer),
        ("m2", Origin::TranscriptBot),
        ("m1", Origin::TranscriptCustomer),
    ] {
        let line = TranscriptLine {
            ticket: 2,
            origin,
            kind: "text",
            payload: "{\"text\": \"hi\"}",
            customer: None,
            external_id: id,
            sent_at: Some(50),
            at: 200,
        };
        tx.transcript_insert(&line).await.unwrap();
    }
    tx.ticket_sync_done(2).await.unwrap();
    tx.ticket_sync_retry(3, 30_000, "busy").await.unwrap();
    tx.ticket_sync_failed(4, "refused").await.unwrap();
    tx.sync_credentials_added(1, 7000).await.unwrap();
    said.push(format!("next due: {:?}", tx.sync_next_due().await.unwrap()));
    tx.commit().await.unwrap();
    said
}

#[tokio::test]
async fn botpress_sync_state_follows_the_same_rules_on_both_engines() {
    let e = engines(&[ROWS, SYNC_ROWS]).await;
    let lite = sync_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "next due: Some(4000)",
            "due at 6 s: [\"bp_a\"] [\"conv_2\"]",
            "by remote id: Some(2)",
            "held by: Some(4)",
            "customer and created: (None, 100)",
            "next due: Some(7000)",
        ]
    );
    assert_eq!(sync_rules(&e.on_postgres).await, lite);
    type Synced = (i64, String, Option<i64>, i64, Option<String>);
    let tickets: Vec<Synced> = e
        .same(
            "select id, sync_state, sync_next_at, sync_attempts, sync_error
             from tickets order by id",
        )
        .await;
    let due = |id, error: Option<&str>| {
        (
            id,
            "pending".to_owned(),
            Some(7000),
            0,
            error.map(str::to_owned),
        )
    };
    // New credentials make every open ticket that was never synced, or failed, due.
    assert_eq!(
        tickets,
        [
            due(1, None),
            (2, "done".into(), None, 0, None),
            due(3, Some("busy")),
            due(4, Some("refused")),
        ]
    );
    let conversations: Vec<(Option<String>, Option<String>)> = e
        .same(
            "select botpress_conversation_id, upstream_conversation_id
             from tickets where id in (2, 4) order by id",
        )
        .await;
    let ids = |bp: &str, up: Option<&str>| (Some(bp.to_owned()), up.map(str::to_owned));
    assert_eq!(
        conversations,
        [ids("bp_two", Some("up_two")), ids("bp_held", None)]
    );
    type Close = (i64, String, Option<i64>, i64, Option<String>);
    let closes: Vec<Close> = e
        .same(
            "select id, state, next_attempt_at, attempts, last_error
             from close_requests order by id",
        )
        .await;
    let pending = |id, next, attempts, error: Option<&str>| {
        (
            id,
            "pending".to_owned(),
            Some(next),
            attempts,
            error.map(str::to_owned),
        )
    };
    assert_eq!(
        closes,
        [
            pending(1, 20_000, 1, Some("502 from Botpress")),
            pending(2, 9000, 1, Some("not found")),
            pending(3, 7000, 0, None),
        ]
    );
    let lines: Vec<(String, Option<String>)> = e
        .same("select origin, external_id from messages where ticket_id = 2 order by id")
        .await;
    let line = |origin: &str, id: &str| (origin.to_owned(), Some(id.to_owned()));
    assert_eq!(
        lines,
        [
            line("transcript_customer", "m1"),
            line("transcript_bot", "m2")
        ]
    );
}

/// The audit log's filter, a ticket's activity, reading a ticket, and the status
/// page's database line, on both engines.
async fn small_read_rules(services: &backend::Services) -> Vec<String> {
    use backend::audit::{self, Actor, Filter};
    let store = &*services.store;
    let cy = Actor {
        id: Some(3),
        label: "Cy@Example.com".into(),
        ip: None,
    };
    for action in ["login", "login.failed", "user_create", "user.create"] {
        audit::audit(store, &cy, action, serde_json::json!({}))
            .await
            .unwrap();
    }
    let page = |actor: &str, action: &str| Filter {
        actor: actor.into(),
        action: action.into(),
        before: None,
    };
    let actions =
        |entries: Vec<audit::Entry>| entries.into_iter().map(|e| e.action).collect::<Vec<_>>();
    let mut said = vec![
        format!(
            "{:?}",
            actions(
                audit::list(store, &page("cy@example", "LOGIN"))
                    .await
                    .unwrap()
            )
        ),
        // `_` is a letter here, not "any one character".
        format!(
            "{:?}",
            actions(audit::list(store, &page("", "user_")).await.unwrap())
        ),
        format!(
            "{:?}",
            actions(audit::list(store, &page("nobody", "")).await.unwrap())
        ),
    ];
    let lines = backend::tickets::activity::since(store, 1, 0)
        .await
        .unwrap();
    said.push(format!(
        "{:?}",
        lines.into_iter().map(|l| l.text).collect::<Vec<_>>()
    ));
    let mut tx = store.write().await.unwrap();
    said.push(format!(
        "last message: {:?}",
        tx.ticket_last_message(1).await.unwrap()
    ));
    said.push(format!(
        "read: {}",
        tx.ticket_read_up_to(1, 1, 2).await.unwrap()
    ));
    said.push(format!(
        "again: {}",
        tx.ticket_read_up_to(1, 1, 2).await.unwrap()
    ));
    said.push(format!(
        "back: {}",
        tx.ticket_read_up_to(1, 1, 1).await.unwrap()
    ));
    said.push(format!(
        "on: {}",
        tx.ticket_read_up_to(1, 1, 3).await.unwrap()
    ));
    tx.commit().await.unwrap();
    backend::tickets::reads::mark_read(services, 2, 1)
        .await
        .unwrap();
    let db = backend::status::database(store).await.unwrap();
    said.push(format!(
        "migrations: {}, now like {}",
        db.migrations > 0,
        db.now.len()
    ));
    said
}

#[tokio::test]
async fn audit_activity_reads_and_status_answer_alike_on_both_engines() {
    let rows = "
insert into ticket_activity (ticket_id, actor_id, action, other_id, detail, at)
    values (1, 1, 'took', null, null, 5), (1, 3, 'transferred', 2, null, 6),
           (1, 2, 'labelled', null, 'Refund', 7);
insert into notes (id, ticket_id, author_id, text, created_at) values (1, 1, 1, 'see @ben', 0);
insert into note_mentions (note_id, user_id, ticket_id) values (1, 2, 1);
";
    let e = engines(&[ROWS, rows]).await;
    let lite = small_read_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            // In any letter case, newest first.
            "[\"login.failed\", \"login\"]",
            "[\"user_create\"]",
            "[]",
            "[\"Ana took this conversation\", \"Cy transferred it to Ben\", \
             \"Ben added the label Refund\"]",
            "last message: Some((\"conv_1\", Some(3)))",
            "read: true",
            "again: false",
            "back: false",
            "on: true",
            "migrations: true, now like 19",
        ]
    );
    assert_eq!(small_read_rules(&e.on_postgres).await, lite);
    let reads: Vec<(i64, i64)> = e
        .same("select user_id, last_read_message_id from ticket_reads order by user_id")
        .await;
    assert_eq!(reads, [(1, 3), (2, 3)]);
    // Ben opened the ticket: the note that mentions him there is seen.
    let seen: Vec<(bool,)> = e
        .same("select seen_at is not null from note_mentions")
        .await;
    assert_eq!(seen, [(true,)]);
}

/// The alerts' settings (JSON under a key) and the backlog gauges the metrics
/// scrape reads, on both engines.
async fn settings_rules(services: &backend::Services) -> Vec<String> {
    use backend::alerts;
    let store = &*services.store;
    let mut said = vec![format!("{:?}", alerts::get(store).await.unwrap())];
    alerts::set(store, 7, Some("https://chat.example.com/hook"))
        .await
        .unwrap();
    alerts::set(store, 9, None).await.unwrap();
    said.push(format!("{:?}", alerts::get(store).await.unwrap()));
    let refused = alerts::set(store, 0, None).await;
    said.push(format!("0 minutes refused: {}", refused.is_err()));
    let metrics = backend::metrics::Metrics::new();
    let text = metrics.render(store, 10_000).await.unwrap();
    said.extend(
        text.lines()
            .filter(|l| l.starts_with("baton_outbox_") || l.starts_with("baton_tickets_"))
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned),
    );
    said
}

#[tokio::test]
async fn settings_and_backlog_gauges_answer_alike_on_both_engines() {
    let rows = "
insert into tickets (id, connection_id, remote_id, created_at, updated_at)
    values (2, 1, 'conv_2', 4000, 4000);
insert into outbox (id, connection_id, ticket_id, route, body, state, next_attempt_at, created_at)
    values (1, 1, 1, 'stop-hitl', '{}', 'pending', 0, 7000),
           (2, 1, 1, 'stop-hitl', '{}', 'sent', 0, 1000);
";
    let e = engines(&[ROWS, rows]).await;
    let lite = settings_rules(&e.on_sqlite).await;
    assert_eq!(
        lite,
        [
            "AlertSettings { unclaimed_after_minutes: 5, webhook_url: None }",
            // Leaving the webhook out keeps the stored one.
            "AlertSettings { unclaimed_after_minutes: 9, \
             webhook_url: Some(\"https://chat.example.com/hook\") }",
            "0 minutes refused: true",
            "baton_outbox_pending 1",
            "baton_outbox_oldest_pending_age_seconds 3.0",
            "baton_tickets_queued 2",
            "baton_tickets_oldest_wait_seconds 10.0",
        ]
    );
    assert_eq!(settings_rules(&e.on_postgres).await, lite);
}

/// Six tickets across both bots in every status, with a transcript, labels, notes
/// that mention Ana, and how far Ana has read: what the inbox's lists read.
const VIEW_ROWS: &str = r#"
insert into customers (id, public_id, connection_id, name, email, picture_url, phone, created_at, updated_at)
    values (1, 'cus_dana', 1, 'Dana', 'dana@example.com', 'javascript:alert(1)', '+1 555', 0, 0);
update tickets set customer_id = 1, status = 'assigned', assignee_id = 1, title = 'First',
    created_at = 10 where id = 1;
insert into tickets (id, connection_id, remote_id, customer_id, title, status, assignee_id,
                     created_at, updated_at, closed_at, closed_reason)
    values (2, 1, 'conv_2', 1, 'Second', 'queued', null, 20, 20, null, null),
           (3, 1, 'conv_3', null, 'Third', 'closed', 1, 30, 30, 35, 'agent_closed'),
           (4, 2, 'conv_4', null, 'Sales', 'queued', null, 15, 15, null, null),
           (5, 1, 'conv_5', 1, 'Fifth', 'closed', null, 40, 40, 45, 'customer_ended'),
           (6, 2, 'conv_1', null, 'Twin', 'queued', null, 50, 50, null, null);
insert into messages (id, ticket_id, origin, type, payload, author_id, delivery, sent_at, created_at)
    values (10, 1, 'transcript_bot', 'text', '{"text": "Bot, later"}', null, null, 900, 1),
           (11, 1, 'transcript_customer', 'text', '{"text": "Human please"}', null, null, 800, 1),
           (12, 1, 'agent', 'text', '{"text": "Hello\n  Dana"}', 1, 'sent', null, 12),
           (13, 1, 'customer', 'text', '{"text": "Thanks"}', null, null, null, 13),
           (14, 2, 'customer', 'image', '{"imageUrl": "https://x/y.png"}', null, null, null, 21);
insert into ticket_reads (user_id, ticket_id, last_read_message_id) values (1, 1, 1);
insert into labels (id, name, colour, created_at)
    values (1, 'urgent', '#ff0000', 0), (2, 'Billing', '#00ff00', 0);
insert into ticket_labels (ticket_id, label_id, added_at)
    values (1, 1, 0), (1, 2, 0), (2, 1, 0), (3, 1, 0), (5, 2, 0), (4, 1, 0);
insert into notes (id, ticket_id, author_id, text, created_at)
    values (1, 1, 2, 'ask @ana', 12), (2, 3, 2, 'and @ana', 31), (3, 2, 3, '@ana', 22);
insert into note_mentions (note_id, user_id, ticket_id, seen_at)
    values (1, 1, 1, null), (2, 1, 3, 100), (3, 1, 2, null);
"#;

/// Every list, paged two at a time, for three viewers, with and without a label;
/// the counts; a row; a transcript's order and its latest page; where a search hit
/// opens; the conversation page's facts; and the exports.
async fn view_rules(services: &backend::Services) -> Vec<String> {
    use backend::tickets::views::{self, Anchor, Cursor, View};
    use backend::tickets::{conversation, export};
    let store = &*services.store;
    let mut said = Vec::new();
    for (viewer, name) in [(1, "Ana"), (2, "Ben"), (3, "Cy")] {
        for view in [
            View::Queued,
            View::Mine,
            View::Assigned,
            View::Open,
            View::Closed,
            View::All,
            View::Mentions,
        ] {
            for label in [None, Some(1)] {
                let (mut ids, mut after) = (Vec::new(), None);
                loop {
                    let page = views::list(store, view, viewer, label, after, 2)
                        .await
                        .unwrap();
                    ids.extend(page.rows.iter().map(|r| r.id));
                    match page.next {
                        Some(next) => after = Some(Cursor::parse(&next).unwrap()),
                        None => break,
                    }
                }
                said.push(format!("{name} {view:?} {label:?}: {ids:?}"));
            }
        }
        said.push(format!(
            "{name}: {:?}, waiting {:?}, conv_1 {:?}",
            views::counts(store, viewer).await.unwrap(),
            views::queued_before(store, viewer, 30, 10).await.unwrap(),
            views::find_by_remote_id(store, viewer, "conv_1")
                .await
                .map_err(|e| format!("{e:?}")),
        ));
    }
    said.push(format!("{:?}", views::row(store, 1, 1).await.unwrap()));
    let messages = views::messages(store, 1).await.unwrap();
    said.push(format!(
        "{:?}",
        messages
            .iter()
            .map(|m| (
                m.id,
                m.origin,
                m.at,
                m.author_name.clone(),
                m.payload.clone()
            ))
            .collect::<Vec<_>>()
    ));
    let (latest, earlier) = views::latest_messages(store, 1, 3).await.unwrap();
    said.push(format!(
        "latest {:?}, {earlier} earlier",
        latest.iter().map(|m| m.id).collect::<Vec<_>>()
    ));
    for anchor in [
        Anchor::Message(10),
        Anchor::Message(13),
        Anchor::Message(14),
        Anchor::Note(1),
        Anchor::Note(2),
    ] {
        said.push(format!(
            "{anchor:?}: {:?}",
            views::messages_to_reach(store, 1, anchor).await.unwrap()
        ));
    }
    said.push(format!(
        "{:?}",
        conversation::detail(store, 1, 1).await.unwrap()
    ));
    said.push(
        export::transcript(store, 3, 1)
            .await
            .unwrap()
            .text()
            .replace('\n', " | "),
    );
    for page in export::csv_page(store, 0, 45, 1, 10).await.unwrap() {
        said.push(page.fields.join(","));
    }
    said.push(format!(
        "{:?}",
        backend::tickets::get(store, 3).await.unwrap()
    ));
    said
}

#[tokio::test]
async fn inbox_lists_and_transcripts_read_alike_on_both_engines() {
    let e = engines(&[ROWS, VIEW_ROWS]).await;
    let lite = view_rules(&e.on_sqlite).await;
    // Ana sees the Support bot only (Ben's team serves Sales); Cy is an admin. The
    // closed and mentions lists run newest first; a transcript puts the bot part
    // first, by Botpress's time; a search hit opens with three messages before it.
    assert_eq!(
        lite,
        [
            "Ana Queued None: [2]",
            "Ana Queued Some(1): [2]",
            "Ana Mine None: [1]",
            "Ana Mine Some(1): [1]",
            "Ana Assigned None: [1]",
            "Ana Assigned Some(1): [1]",
            "Ana Open None: [1, 2]",
            "Ana Open Some(1): [1, 2]",
            "Ana Closed None: [5, 3]",
            "Ana Closed Some(1): [3]",
            "Ana All None: [1, 2, 3, 5]",
            "Ana All Some(1): [1, 2, 3]",
            "Ana Mentions None: [2, 3, 1]",
            "Ana Mentions Some(1): [2, 3, 1]",
            "Ana: Counts { queued: 1, mine: 1, open: 2, closed: 2, mentions: 2 }, waiting [\"conv_2\"], conv_1 Ok(1)",
            "Ben Queued None: [4, 2, 6]",
            "Ben Queued Some(1): [4, 2]",
            "Ben Mine None: []",
            "Ben Mine Some(1): []",
            "Ben Assigned None: [1]",
            "Ben Assigned Some(1): [1]",
            "Ben Open None: [1, 4, 2, 6]",
            "Ben Open Some(1): [1, 4, 2]",
            "Ben Closed None: [5, 3]",
            "Ben Closed Some(1): [3]",
            "Ben All None: [1, 2, 3, 4, 5, 6]",
            "Ben All Some(1): [1, 4, 2, 3]",
            "Ben Mentions None: []",
            "Ben Mentions Some(1): []",
            "Ben: Counts { queued: 3, mine: 0, open: 4, closed: 2, mentions: 0 }, waiting [\"conv_4\", \"conv_2\"], conv_1 Err(\"Conflict(\\\"\\\\\\\"conv_1\\\\\\\" names tickets on more than one connection\\\")\")",
            "Cy Queued None: [4, 2, 6]",
            "Cy Queued Some(1): [4, 2]",
            "Cy Mine None: []",
            "Cy Mine Some(1): []",
            "Cy Assigned None: [1]",
            "Cy Assigned Some(1): [1]",
            "Cy Open None: [1, 4, 2, 6]",
            "Cy Open Some(1): [1, 4, 2]",
            "Cy Closed None: [5, 3]",
            "Cy Closed Some(1): [3]",
            "Cy All None: [1, 2, 3, 4, 5, 6]",
            "Cy All Some(1): [1, 4, 2, 3]",
            "Cy Mentions None: []",
            "Cy Mentions Some(1): []",
            "Cy: Counts { queued: 3, mine: 0, open: 4, closed: 2, mentions: 0 }, waiting [\"conv_4\", \"conv_2\"], conv_1 Err(\"Conflict(\\\"\\\\\\\"conv_1\\\\\\\" names tickets on more than one connection\\\")\")",
            "Row { id: 1, remote_id: \"conv_1\", title: \"First\", description: \"\", status: Assigned, connection: \"Support\", customer_name: Some(\"Dana\"), customer_email: Some(\"dana@example.com\"), assignee_id: Some(1), assignee_name: Some(\"Ana\"), assignee_public_id: Some(\"usr_a\"), created_at: 10, closed_at: None, last_origin: Some(Customer), last_preview: Some(\"Thanks\"), last_at: Some(13), unread: 1, labels: [Label { id: 2, name: \"Billing\", colour: \"#00ff00\" }, Label { id: 1, name: \"urgent\", colour: \"#ff0000\" }], priority: None, team: None }",
            "[(11, TranscriptCustomer, 800, None, Object {\"text\": String(\"Human please\")}), (10, TranscriptBot, 900, None, Object {\"text\": String(\"Bot, later\")}), (1, Customer, 0, None, Object {\"text\": String(\"Où est ma commande ?\")}), (2, System, 0, None, Object {\"options\": Array [Object {\"label\": String(\"Yes\")}, String(\"No\"), Object {\"label\": String(\"Later\")}], \"text\": String(\"Pick one\")}), (3, System, 0, None, Object {\"options\": String(\"none\"), \"title\": String(\"Order\")}), (12, Agent, 12, Some(\"Ana\"), Object {\"text\": String(\"Hello\\n  Dana\")}), (13, Customer, 13, None, Object {\"text\": String(\"Thanks\")})]",
            "latest [3, 12, 13], 4 earlier",
            "Message(10): Some(9)",
            "Message(13): Some(4)",
            "Message(14): None",
            "Note(1): Some(5)",
            "Note(2): None",
            "Detail { row: Row { id: 1, remote_id: \"conv_1\", title: \"First\", description: \"\", status: Assigned, connection: \"Support\", customer_name: Some(\"Dana\"), customer_email: Some(\"dana@example.com\"), assignee_id: Some(1), assignee_name: Some(\"Ana\"), assignee_public_id: Some(\"usr_a\"), created_at: 10, closed_at: None, last_origin: Some(Customer), last_preview: Some(\"Thanks\"), last_at: Some(13), unread: 1, labels: [Label { id: 2, name: \"Billing\", colour: \"#00ff00\" }, Label { id: 1, name: \"urgent\", colour: \"#ff0000\" }], priority: None, team: None }, closed_reason: None, waiting_since: Some(13), customer: Some(Customer { public_id: \"cus_dana\", name: Some(\"Dana\"), email: Some(\"dana@example.com\"), picture_url: None, phone: Some(\"+1 555\"), company: None, others: [OtherTicket { remote_id: \"conv_5\", title: \"Fifth\", status: Closed, created_at: 40 }, OtherTicket { remote_id: \"conv_2\", title: \"Second\", status: Queued, created_at: 20 }] }), last_read: Some(1) }",
            "Conversation: First | Ticket: conv_1 (bot: Support) | Customer: Dana <dana@example.com> | Opened: 1970-01-01 00:00 UTC | Status: assigned | Labels: Billing, urgent |  | [1970-01-01 00:00 UTC] Dana (to the bot): Human please | [1970-01-01 00:00 UTC] Bot: Bot, later | [1970-01-01 00:00 UTC] Dana (customer): Où est ma commande ? | [1970-01-01 00:00 UTC] Botpress: Pick one [choices: Yes | Later] | [1970-01-01 00:00 UTC] Botpress: [card] [card] | [1970-01-01 00:00 UTC] Ana (agent): Hello |   Dana | [1970-01-01 00:00 UTC] Dana (customer): Thanks | ",
            "conv_2,queued,Second,Support,Dana,dana@example.com,,1970-01-01T00:00:00Z,,,1,urgent",
            "conv_3,closed,Third,Support,,,Ana,1970-01-01T00:00:00Z,1970-01-01T00:00:00Z,agent_closed,0,urgent",
            "conv_4,queued,Sales,Sales,,,,1970-01-01T00:00:00Z,,,0,urgent",
            "conv_5,closed,Fifth,Support,Dana,dana@example.com,,1970-01-01T00:00:00Z,1970-01-01T00:00:00Z,customer_ended,0,Billing",
            "TicketRow { id: 3, connection_id: 1, remote_id: \"conv_3\", customer_id: None, title: \"Third\", description: \"\", status: Closed, assignee_id: Some(1), recovered: false, botpress_conversation_id: None, created_at: 30, closed_at: Some(35), closed_reason: Some(AgentClosed), priority: None, team: None }",
        ]
    );
    assert_eq!(view_rules(&e.on_postgres).await, lite);
}

/// A second customer, with an accent in her name, on the closed ticket 3.
const SEARCH_ROWS: &str = "
insert into customers (id, public_id, connection_id, name, email, created_at, updated_at)
    values (2, 'cus_zoe', 1, 'Zoë Brandt', 'zoe@shop.example', 5, 5);
update tickets set customer_id = 2, description = 'Refund for order 1234' where id = 3;
";

/// Searches as three viewers, with filters: which hits come back, in which order,
/// and which words are marked in their snippets.
async fn search_rules(services: &backend::Services) -> Vec<String> {
    use backend::search::{self, Filters};
    use protocol::ticket::Status;
    let store = &*services.store;
    let any = Filters::default();
    let closed = Filters {
        status: Some(Status::Closed),
        ..Filters::default()
    };
    let billing = Filters {
        label: Some(2),
        ..Filters::default()
    };
    let mut said = Vec::new();
    for (viewer, query, filters) in [
        (1, "dana", any),
        (1, "LATER", any),
        (1, "ou commande", any),
        (1, "zoe", any),
        (1, "example com", any),
        (1, "refun 12", any),
        (1, "ana", any),
        (1, "ana", closed),
        (1, "ana", billing),
        (1, "sales", any),
        (2, "sales", any),
        (3, "hello", closed),
        (1, "  !! ", any),
    ] {
        let found = search::search(store, viewer, query, &filters, 30).await;
        let line = match found {
            Err(e) => format!("{e:?}"),
            Ok(hits) => hits
                .iter()
                .map(|h| {
                    let marked: Vec<String> = h
                        .snippet
                        .iter()
                        .filter(|p| p.hit)
                        .map(|p| p.text.to_lowercase())
                        .collect();
                    format!(
                        "{:?} {} {:?} {:?} {marked:?}",
                        h.kind,
                        h.ticket,
                        h.message.or(h.note),
                        h.customer
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        said.push(format!("{viewer} {query:?}: {line}"));
    }
    said
}

#[tokio::test]
async fn search_finds_the_same_on_both_engines() {
    let e = engines(&[ROWS, VIEW_ROWS, SEARCH_ROWS]).await;
    let lite = search_rules(&e.on_sqlite).await;
    // Prefixes, in any case and accent, split at punctuation; newest first; only what
    // the viewer sees (Ana does not see the Sales bot) and what the filters let through.
    assert_eq!(
        lite,
        [
            "1 \"dana\": Customer conv_5 None Some(\"cus_dana\") [\"dana\"]; Message conv_1 Some(12) Some(\"cus_dana\") [\"dana\"]",
            "1 \"LATER\": Message conv_1 Some(10) Some(\"cus_dana\") [\"later\"]; Message conv_1 Some(2) Some(\"cus_dana\") [\"later\"]",
            "1 \"ou commande\": Message conv_1 Some(1) Some(\"cus_dana\") [\"où\", \"commande\"]",
            "1 \"zoe\": Customer conv_3 None Some(\"cus_zoe\") [\"zoë\"]",
            "1 \"example com\": Customer conv_5 None Some(\"cus_dana\") [\"example\", \"com\"]",
            "1 \"refun 12\": Ticket conv_3 None Some(\"cus_zoe\") [\"refund\", \"1234\"]",
            "1 \"ana\": Note conv_3 Some(2) Some(\"cus_zoe\") [\"ana\"]; Note conv_2 Some(3) Some(\"cus_dana\") [\"ana\"]; Note conv_1 Some(1) Some(\"cus_dana\") [\"ana\"]",
            "1 \"ana\": Note conv_3 Some(2) Some(\"cus_zoe\") [\"ana\"]",
            "1 \"ana\": Note conv_1 Some(1) Some(\"cus_dana\") [\"ana\"]",
            "1 \"sales\": ",
            "2 \"sales\": Ticket conv_4 None None [\"sales\"]",
            "3 \"hello\": ",
            "1 \"  !! \": Invalid(\"type a word, a name or an email to search for\")",
        ]
    );
    assert_eq!(search_rules(&e.on_postgres).await, lite);
}

/// A report over the tickets of the view rows, with availability recorded through
/// the domain, on both engines.
async fn report_rules(services: &backend::Services) -> Vec<String> {
    use backend::reports::{self, availability};
    let store = &*services.store;
    availability::record(store, 1, true, 1_000).await.unwrap();
    // A second start while one is open changes nothing.
    availability::record(store, 1, true, 2_000).await.unwrap();
    availability::record(store, 1, false, 61_000).await.unwrap();
    availability::record(store, 2, true, 5_000).await.unwrap();
    // Ben's interval was left open by a stopped process: it ends at his last request.
    let closed = availability::close_stale(store).await.unwrap();
    let query = |connection, team| reports::Query {
        from: "1970-01-01".into(),
        to: "1970-01-01".into(),
        tz: String::new(),
        connection,
        team,
    };
    let mut said = vec![format!("stale closed: {closed}")];
    for (connection, team) in [(None, None), (Some(1), None), (None, Some(1))] {
        let r = reports::report(store, &query(connection, team))
            .await
            .unwrap();
        said.push(format!("{:?}", r.summary));
        said.push(format!("{:?}", r.agents));
        said.push(format!(
            "{:?}",
            (
                r.breakdown
                    .connections
                    .iter()
                    .map(|g| (g.name.clone(), g.summary.created))
                    .collect::<Vec<_>>(),
                r.breakdown
                    .teams
                    .iter()
                    .map(|g| (g.name.clone(), g.summary.created))
                    .collect::<Vec<_>>()
            )
        ));
    }
    said
}

#[tokio::test]
async fn reports_and_availability_count_alike_on_both_engines() {
    let rows = "
update users set last_seen_at = 35000 where id = 2;
update tickets set taken_at = 12, first_response_at = 2012, message_count = 4 where id = 1;
update tickets set taken_at = 31, first_response_at = 5031, message_count = 2 where id = 3;
";
    let e = engines(&[ROWS, VIEW_ROWS, rows]).await;
    let lite = report_rules(&e.on_sqlite).await;
    // Six tickets, two taken by Ana (1 and 2 ms to take), two closed, one left by its
    // customer before anyone answered; Ana available a minute, Ben half of one.
    assert_eq!(
        lite,
        [
            "stale closed: 1",
            "Summary { created: 6, taken: 2, handed_back: 0, closed: 2, abandoned: 1, wait: Spread { median_s: Some(0.0015), p90_s: Some(0.002) }, first_response: Spread { median_s: Some(3.5015), p90_s: Some(5.001) }, resolution: Spread { median_s: Some(0.005), p90_s: Some(0.005) }, messages_per_ticket: Some(1.0) }",
            "[AgentReport { id: \"usr_a\", name: \"Ana\", handled: 2, first_response_median_s: Some(3.5015), resolution_median_s: Some(0.005), available_s: 60 }, AgentReport { id: \"usr_b\", name: \"Ben\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 30 }, AgentReport { id: \"usr_c\", name: \"Cy\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 0 }]",
            "([(\"Sales\", 2), (\"Support\", 4)], [(\"Sales team\", 2)])",
            "Summary { created: 4, taken: 2, handed_back: 0, closed: 2, abandoned: 1, wait: Spread { median_s: Some(0.0015), p90_s: Some(0.002) }, first_response: Spread { median_s: Some(3.5015), p90_s: Some(5.001) }, resolution: Spread { median_s: Some(0.005), p90_s: Some(0.005) }, messages_per_ticket: Some(1.5) }",
            "[AgentReport { id: \"usr_a\", name: \"Ana\", handled: 2, first_response_median_s: Some(3.5015), resolution_median_s: Some(0.005), available_s: 60 }, AgentReport { id: \"usr_b\", name: \"Ben\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 30 }, AgentReport { id: \"usr_c\", name: \"Cy\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 0 }]",
            "([(\"Support\", 4)], [(\"Sales team\", 0)])",
            "Summary { created: 2, taken: 0, handed_back: 0, closed: 0, abandoned: 0, wait: Spread { median_s: None, p90_s: None }, first_response: Spread { median_s: None, p90_s: None }, resolution: Spread { median_s: None, p90_s: None }, messages_per_ticket: Some(0.0) }",
            "[AgentReport { id: \"usr_a\", name: \"Ana\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 60 }, AgentReport { id: \"usr_b\", name: \"Ben\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 30 }, AgentReport { id: \"usr_c\", name: \"Cy\", handled: 0, first_response_median_s: None, resolution_median_s: None, available_s: 0 }]",
            "([(\"Sales\", 2)], [(\"Sales team\", 2)])",
        ]
    );
    assert_eq!(report_rules(&e.on_postgres).await, lite);
    let intervals: Vec<(i64, i64, Option<i64>)> = e
        .same("select user_id, started_at, ended_at from availability_log order by id")
        .await;
    assert_eq!(
        intervals,
        [(1, 1_000, Some(61_000)), (2, 5_000, Some(35_000))]
    );
}

#[tokio::test]
async fn files_are_found_by_key_alike_on_both_engines() {
    let (a, m, pending) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    let rows = format!(
        "insert into attachments (key, ticket_id, uploader_id, name, content_type, size, created_at)
             values ('{a}', 1, 1, 'report.pdf', 'application/pdf', 3, 0);
         insert into media (message_id, ticket_id, url, state, key, name, content_type, size, created_at)
             values (1, 1, 'https://x/p.png', 'stored', '{m}', 'p.png', 'image/png', 3, 0),
                    (2, 1, 'https://x/q.png', 'pending', '{pending}', 'q.png', 'image/png', 3, 0);"
    );
    let e = engines(&[ROWS, &rows]).await;
    for services in [&e.on_sqlite, &e.on_postgres] {
        let find = async |key: &str| {
            backend::attachments::find(services, key)
                .await
                .map(|f| (f.name, f.content_type))
                .map_err(|e| format!("{e:?}"))
        };
        assert_eq!(
            find(&a).await,
            Ok(("report.pdf".into(), "application/pdf".into()))
        );
        assert_eq!(find(&m).await, Ok(("p.png".into(), "image/png".into())));
        // A copy still being made, an unknown key, and a key of the wrong shape.
        for key in [pending.as_str(), &"d".repeat(64), "../etc/passwd"] {
            assert_eq!(find(key).await, Err("NotFound(\"file\")".into()));
        }
    }
}

#[tokio::test]
async fn the_group_commit_on_postgres_shares_commits_and_fails_a_write_alone() {
    use backend::db::writer::Writer;
    use backend::effects::Effects;
    use protocol::realtime::Change;

    let url = postgres_database().await;
    let db = backend::db::Database::open(&url).await.unwrap();
    let backend::db::Database::Postgres(pool) = &db else {
        unreachable!("a PostgreSQL URL opens PostgreSQL")
    };
    let writer = Writer::postgres(pool.clone(), Default::default());
    let counted = writer.clone();
    // A write: an audit entry at `at` and an event; the one at 13 then fails.
    let write = move |at: i64| {
        let writer = writer.clone();
        async move {
            writer
                .write_announcing(move |tx| {
                    Box::pin(async move {
                        let entry = store::audit::NewEntry {
                            at,
                            actor_id: None,
                            actor: "test",
                            ip: None,
                            action: "test.write",
                            detail: "{}",
                        };
                        tx.audit_insert(&entry).await?;
                        if at == 13 {
                            return Err(backend::Error::invalid("thirteen is refused"));
                        }
                        let mut effects = Effects::new();
                        effects.publish_to_everyone(Change::Presence {
                            agent: format!("agt_{at}"),
                            presence: protocol::account::Presence::Online,
                        });
                        Ok(effects)
                    })
                })
                .await
        }
    };
    // Twenty writes at once: they share a few commits.
    let results = futures_util::future::join_all((1..=20).map(write.clone())).await;
    for (at, result) in (1..=20).zip(&results) {
        match result {
            Ok(_) => assert_ne!(at, 13),
            Err(e) => assert_eq!((at, e.to_string()), (13, "thirteen is refused".into())),
        }
    }
    let stored: Vec<i64> = sqlx::query_scalar("select at from audit_log order by at")
        .fetch_all(pool)
        .await
        .unwrap();
    let expected: Vec<i64> = (1..=20).filter(|at| *at != 13).collect();
    assert_eq!(stored, expected, "the failed write alone is rolled back");
    let announced: Vec<String> = sqlx::query_scalar("select change from events order by seq")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(announced.len(), 19, "{announced:?}");
    assert!(!announced.iter().any(|c| c.contains("agt_13")));
    let commits = counted.commits();
    assert!(commits < 19, "{commits} transactions for 19 writes");
    db.close().await;
}
