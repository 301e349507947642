//! The large database: server-side rendering of the inbox page and a long
//! conversation, and search (`GET /api/v1/search`) over all of it.

use std::time::{Duration, Instant};

use anyhow::Context;
use backend::users::Role;

use crate::process::{Baton, database_url, scratch};
use crate::report::Row;
use crate::seed::{self, PASSWORD};
use crate::stats::{Samples, ms};
use crate::{Config, Scale};

const EMAIL: &str = "lead@bench.example";
/// The admin who reads the report (and whose pages the stress measure renders).
pub const ADMIN: &str = "admin@bench.example";
/// The first seeded ticket: the oldest in the queue, and the one with the long history.
const LONG_TICKET: &str = "tkt_bench1";

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let (dir, database) = scratch()?;
    measure(config, scale, dir, &database_url(&database), Engine::Sqlite).await
}

/// Which engine [`measure`] runs on: PostgreSQL's rows carry its name, and record
/// their numbers rather than hold them to SQLite's targets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The four measures on the empty database at `url` (either engine), with Baton's
/// log and attachments in `dir`.
pub async fn measure(
    config: &Config,
    scale: &Scale,
    dir: tempfile::TempDir,
    url: &str,
    engine: Engine,
) -> anyhow::Result<Vec<Row>> {
    let webhook = crate::webhook::start().await?;
    seed::connection_at(url, &webhook.url).await?;
    let seeding = Instant::now();
    let token = fill(url, scale).await?;
    eprintln!(
        "bench: seeded {} tickets and {} messages in {:.1} s",
        scale.tickets,
        scale.messages,
        seeding.elapsed().as_secs_f64()
    );
    let baton = Baton::start_at(config, dir, url).await?;

    // A page that never answers fails the run instead of hanging it.
    let client = backend::http_client::client()
        .timeout(Duration::from_secs(120))
        .build()?;
    let cookie = sign_in(&client, &baton, EMAIL).await?;

    let mut inbox = page(&client, &baton, &cookie, "/inbox", "Question 1", scale).await?;
    let mut long = page(
        &client,
        &baton,
        &cookie,
        &format!("/inbox/{LONG_TICKET}"),
        "Seeded message",
        scale,
    )
    .await?;
    let mut found = search(&client, &baton, &token, scale).await?;
    // A year's report, in a time zone with daylight saving, for the whole team.
    let admin = sign_in(&client, &baton, ADMIN).await?;
    let today = jiff::Zoned::now().date();
    let year_ago = today.checked_sub(jiff::ToSpan::days(365))?;
    let report_path = format!("/reports?from={year_ago}&to={today}&tz=Europe/Paris");
    let mut report = page(
        &client,
        &baton,
        &admin,
        &report_path,
        "Conversations per day",
        scale,
    )
    .await?;
    let report50 = report.percentile(50.0);
    let (inbox50, long50) = (inbox.percentile(50.0), long.percentile(50.0));
    let found50 = found.percentile(50.0);
    let data = format!("{} tickets, {} messages", scale.tickets, scale.messages);
    // SQLite's rows are held to the budgets; PostgreSQL's are recorded beside them.
    let row =
        |names: [&'static str; 2], result: String, budget: &'static str, met: bool| match engine {
            Engine::Sqlite => Row::new(names[0], result, budget, met),
            Engine::Postgres => Row::new(names[1], result, "recorded", true),
        };
    Ok(vec![
        row(
            ["SSR, inbox page", "PostgreSQL SSR, inbox page"],
            format!(
                "p50 **{}**, p99 {} (`GET /inbox`, {data}, {} requests)",
                ms(inbox50),
                ms(inbox.percentile(99.0)),
                inbox.len()
            ),
            "p50 ≤ 15 ms",
            inbox50 <= Duration::from_millis(15),
        ),
        row(
            ["SSR, long ticket", "PostgreSQL SSR, long ticket"],
            format!(
                "p50 **{}**, p99 {} (`GET /inbox/{LONG_TICKET}`, {} messages in the ticket, \
                 {} requests)",
                ms(long50),
                ms(long.percentile(99.0)),
                scale.long_ticket,
                long.len()
            ),
            "p50 ≤ 30 ms",
            long50 <= Duration::from_millis(30),
        ),
        row(
            ["Search", "PostgreSQL search"],
            format!(
                "p50 **{}**, p99 {} (`GET /api/v1/search`, {data}, {} requests over {} \
                 queries: common and rare words, prefixes, a name, a filter)",
                ms(found50),
                ms(found.percentile(99.0)),
                found.len(),
                SEARCHES.len()
            ),
            "p50 ≤ 50 ms",
            found50 <= Duration::from_millis(50),
        ),
        row(
            ["Report, a year", "PostgreSQL report, a year"],
            format!(
                "p50 **{}**, p99 {} (`GET /reports`, 366 days in Europe/Paris: counts, times, \
                 charts, per agent, per bot; {} closed conversations over the year before \
                 the backlog, and {data}; {} requests)",
                ms(report50),
                ms(report.percentile(99.0)),
                scale.history,
                report.len()
            ),
            "p50 ≤ 200 ms",
            report50 <= Duration::from_millis(200),
        ),
    ])
}

/// Signs `email` in (with the seeded password) and returns its session cookie.
pub async fn sign_in(
    client: &reqwest::Client,
    baton: &Baton,
    email: &str,
) -> anyhow::Result<String> {
    let login = client
        .post(baton.url("/api/auth/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "sign-in: {}", login.status());
    Ok(login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("sign-in set no cookie")?
        .to_owned())
}

/// Times `page_requests` sequential GETs of `path`, after a short warm-up, checking
/// each answer is the real page (it contains `expect`).
async fn page(
    client: &reqwest::Client,
    baton: &Baton,
    cookie: &str,
    path: &str,
    expect: &str,
    scale: &Scale,
) -> anyhow::Result<Samples> {
    let mut samples = Samples::default();
    let began = Instant::now();
    for i in 0..scale.page_requests + 5 {
        // A slow page would make a full run take hours; a minute of samples is plenty.
        if began.elapsed() > Duration::from_secs(60) && samples.len() >= 3 {
            break;
        }
        let started = Instant::now();
        let response = client
            .get(baton.url(path))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        let took = started.elapsed();
        anyhow::ensure!(status.is_success(), "GET {path}: {status}");
        anyhow::ensure!(body.contains(expect), "GET {path} does not show {expect:?}");
        if i >= 5 {
            samples.push(took);
        }
    }
    Ok(samples)
}

/// What the search measure asks, in turn, and the fewest hits each must find: a
/// word in every message, one in a seventh of them, a number prefix, a word in no
/// message, a customer's name, a title, and a common word in assigned tickets.
const SEARCHES: &[(&str, usize)] = &[
    ("q=question", 30),
    ("q=warranty", 30),
    // Order 4242 and 42420–42429: 220 messages at full scale, 1 in the quick data.
    ("q=order+4242", 1),
    ("q=zebra", 0),
    ("q=dana", 1),
    ("q=question+5", 30),
    ("q=refund&status=assigned", 30),
];

/// Times `page_requests` searches, cycling through [`SEARCHES`], after a warm-up,
/// checking each finds what it should.
async fn search(
    client: &reqwest::Client,
    baton: &Baton,
    token: &str,
    scale: &Scale,
) -> anyhow::Result<Samples> {
    let mut samples = Samples::default();
    for i in 0..scale.page_requests + SEARCHES.len() {
        let (query, least) = SEARCHES[i % SEARCHES.len()];
        let started = Instant::now();
        let response = client
            .get(baton.url(&format!("/api/v1/search?{query}")))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        let took = started.elapsed();
        anyhow::ensure!(status.is_success(), "search {query}: {status} {body}");
        let hits = body["hits"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(
            hits >= least,
            "search {query} found {hits}, expected {least}+"
        );
        if i >= SEARCHES.len() {
            samples.push(took);
        }
    }
    Ok(samples)
}

/// Seeds the database at `url` (either engine) in a few set-based statements
/// (recursive CTEs), which is seconds for a million rows where one INSERT per row
/// would be minutes.
///
/// The script is checked when it runs, not at compile time: it is test data, and the
/// first run against a changed schema fails loudly. Its numbers are the run's own
/// (no input from outside), so they are written into the text, which lets one script
/// serve both engines.
///
/// Returns an API token of the lead, for the search measure.
pub async fn fill(url: &str, scale: &Scale) -> anyhow::Result<String> {
    let db = backend::db::Database::open(url).await?;
    let store = db.store();
    let lead = backend::accounts::create_user(
        &*store,
        EMAIL,
        "Bench lead",
        Role::Agent,
        Some(PASSWORD.into()),
    )
    .await?;
    let (_, token) = backend::accounts::create_token(&*store, lead.id, "bench").await?;
    backend::accounts::create_user(
        &*store,
        ADMIN,
        "Bench admin",
        Role::Admin,
        Some(PASSWORD.into()),
    )
    .await?;
    let script = seed_script(scale, lead.id, db.is_postgres());
    match &db {
        backend::db::Database::Sqlite(pool) => {
            sqlx::raw_sql(&script).execute(pool).await?;
        }
        backend::db::Database::Postgres(pool) => {
            sqlx::raw_sql(&script).execute(pool).await?;
            // Fresh statistics, as autovacuum would have gathered on a live database
            // of this size; without them the planner guesses on an empty table.
            sqlx::raw_sql("analyze").execute(pool).await?;
        }
    }
    // Searchable before Baton starts, as a live instance's messages are (SQLite's
    // indexer works in batches; PostgreSQL's indexes are already up to date).
    backend::search::index_all(&*store).await?;
    db.close().await;
    Ok(token)
}

/// The seed, as one transaction. The few spellings that differ between the
/// engines: PostgreSQL builds JSON with `jsonb_build_object`, and a subquery in FROM
/// needs a name there. The counter is a `bigint` so that times in milliseconds do
/// not overflow PostgreSQL's 32-bit integers.
fn seed_script(scale: &Scale, lead: i64, postgres: bool) -> String {
    let json = if postgres {
        "jsonb_build_object"
    } else {
        "json_object"
    };
    let Scale {
        tickets,
        messages,
        long_ticket,
        history,
        ..
    } = *scale;
    let now = backend::clock::now_ms();
    // Ten days ago, a ticket a minute: the queue looks like a real backlog.
    let start = now - 10 * 24 * 3600 * 1000;
    let year = 365 * 24 * 3600 * 1000_i64;
    let past = start - year;
    let connection = "(select id from connections)";
    let customer = "(select id from customers where public_id = 'usr_bench')";
    let first = "(select id from tickets where remote_id = 'tkt_bench1')";
    let count = |to: i64| {
        format!(
            "with recursive n(i) as (select cast(1 as bigint) union all \
             select i + 1 from n where i < {to})"
        )
    };
    format!(
        "begin;
         insert into customers (public_id, connection_id, name, email, created_at, updated_at)
         values ('usr_bench', {connection}, 'Dana Customer', 'dana@example.org', {start}, {start});

         -- Every fifth ticket is held by the signed-in agent, the rest are queued.
         {tickets_n}
         insert into tickets (connection_id, remote_id, customer_id, title, description,
                              status, assignee_id, created_at, updated_at, first_inbound_at)
         select {connection}, 'tkt_bench' || i, {customer}, 'Question ' || i,
                'Seeded for the benchmark',
                case when i % 5 = 0 then 'assigned' else 'queued' end,
                case when i % 5 = 0 then {lead} end,
                {start} + i * 60000, {start} + i * 60000, {start} + i * 60000
         from n;

         -- The long ticket: customer and agent taking turns.
         {long_n}
         insert into messages (ticket_id, origin, type, payload, customer_id, author_id,
                               delivery, created_at)
         select {first}, case when i % 2 = 0 then 'agent' else 'customer' end, 'text',
                {json}('type', 'text', 'text',
                       'Seeded message ' || i || ': could you check my order, please?'),
                case when i % 2 = 0 then null else {customer} end,
                case when i % 2 = 0 then {lead} end,
                case when i % 2 = 0 then 'sent' end,
                {start} + i
         from n;

         -- The rest, spread evenly over the other tickets, in words that vary as a
         -- customer's do (so a search has common and rare words to find).
         {rest_n}
         insert into messages (ticket_id, origin, type, payload, customer_id, created_at)
         select {first} + 1 + ((i - 1) % ({tickets} - 1)), 'customer', 'text',
                {json}('type', 'text', 'text',
                       'Seeded message ' || (i - 1) || ': hello, I have a question about ' ||
                       case (i - 1) % 7 when 0 then 'a refund' when 1 then 'my delivery'
                                        when 2 then 'an invoice' when 3 then 'my password'
                                        when 4 then 'the warranty' when 5 then 'a parcel'
                                        else 'a discount' end ||
                       ' for order ' || ((i - 1) % 50000)),
                {customer}, {start} + i - 1
         from n;

         -- What reports read, as the live paths record it: the held tickets taken
         -- within minutes and most of them answered, and every ticket's messages
         -- counted.
         update tickets set
            taken_at = case when assignee_id is not null
                            then created_at + (id % 13) * 17000 end,
            first_response_at = case when assignee_id is not null and id % 4 != 0
                                     then created_at + (id % 11) * 23000 + 20000 end,
            message_count = (select count(*) from messages m where m.ticket_id = tickets.id);

         -- A year of closed conversations before the backlog, for the year's report:
         -- one every few minutes, most taken and answered within minutes, closed
         -- within hours (handed back, or ended by the customer), with their message
         -- counts; and the agent available eight hours a day. Their messages are not
         -- stored: reports read the counts, and the messages above are what the
         -- other pages read.
         insert into customers (public_id, connection_id, name, created_at, updated_at)
         values ('usr_bench_past', {connection}, 'Earlier customers', {past}, {past});
         {history_n}
         insert into tickets (connection_id, remote_id, customer_id, title, status,
                              assignee_id, created_at, updated_at, first_inbound_at,
                              taken_at, first_response_at, closed_at, closed_reason,
                              message_count, screened)
         select {connection}, 'tkt_year' || i,
                (select id from customers where public_id = 'usr_bench_past'),
                'Earlier conversation ' || i, 'closed',
                case when i % 10 != 0 then {lead} end,
                t, t, t,
                case when i % 10 != 0 then t + (i % 17) * 19000 end,
                case when i % 10 != 0 then t + (i % 23) * 29000 + 15000 end,
                t + (i % 10) * 900000 + 600000,
                case when i % 10 = 0 then 'customer_ended' else 'handed_back' end,
                2 + i % 11, true
         from (select i, {past} + i * {spacing} as t from n) as spread;

         {days_n}
         insert into availability_log (user_id, started_at, ended_at)
         select {lead}, {past} + (i - 1) * 86400000, {past} + (i - 1) * 86400000 + 8 * 3600000
         from n;
         commit;",
        tickets_n = count(tickets),
        long_n = count(long_ticket),
        rest_n = count(messages - long_ticket),
        history_n = count(history),
        spacing = year / history,
        days_n = count(365),
    )
}
