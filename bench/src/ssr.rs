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
    let webhook = crate::webhook::start().await?;
    let (dir, database) = scratch()?;
    seed::connection(&database, &webhook.url).await?;
    let seeding = Instant::now();
    let token = fill(&database, scale).await?;
    eprintln!(
        "bench: seeded {} tickets and {} messages in {:.1} s",
        scale.tickets,
        scale.messages,
        seeding.elapsed().as_secs_f64()
    );
    let baton = Baton::start(config, dir, database).await?;

    // A page that never answers fails the run instead of hanging it.
    let client = reqwest::Client::builder()
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
    Ok(vec![
        Row::new(
            "SSR, inbox page",
            format!(
                "p50 **{}**, p99 {} (`GET /inbox`, {data}, {} requests)",
                ms(inbox50),
                ms(inbox.percentile(99.0)),
                inbox.len()
            ),
            "p50 ≤ 15 ms",
            inbox50 <= Duration::from_millis(15),
        ),
        Row::new(
            "SSR, long ticket",
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
        Row::new(
            "Search",
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
        Row::new(
            "Report, a year",
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

/// Seeds the database in a few set-based statements (recursive CTEs), which is
/// seconds for a million rows where one INSERT per row would be minutes.
///
/// These queries are checked when they run, not at compile time: they are test data,
/// and the first run against a changed schema fails loudly.
///
/// Returns an API token of the lead, for the search measure.
pub async fn fill(database: &std::path::Path, scale: &Scale) -> anyhow::Result<String> {
    let db = backend::db::connect(&database_url(database)).await?;
    let store = store_sqlite::SqliteStore::new(db.clone());
    let lead = backend::accounts::create_user(
        &store,
        EMAIL,
        "Bench lead",
        Role::Agent,
        Some(PASSWORD.into()),
    )
    .await?;
    let (_, token) = backend::accounts::create_token(&store, lead.id, "bench").await?;
    backend::accounts::create_user(
        &store,
        ADMIN,
        "Bench admin",
        Role::Admin,
        Some(PASSWORD.into()),
    )
    .await?;
    let now = backend::clock::now_ms();
    // Ten days ago, a ticket a minute: the queue looks like a real backlog.
    let start = now - 10 * 24 * 3600 * 1000;
    let mut tx = db.begin().await?;
    let connection: i64 = sqlx::query_scalar("select id from connections")
        .fetch_one(&mut *tx)
        .await?;
    let customer: i64 = sqlx::query_scalar(
        "insert into customers (public_id, connection_id, name, email, created_at, updated_at)
         values ('usr_bench', ?1, 'Dana Customer', 'dana@example.org', ?2, ?2) returning id",
    )
    .bind(connection)
    .bind(start)
    .fetch_one(&mut *tx)
    .await?;
    // Every fifth ticket is held by the signed-in agent, the rest are queued.
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1)
         insert into tickets (connection_id, remote_id, customer_id, title, description,
                              status, assignee_id, created_at, updated_at, first_inbound_at)
         select ?2, 'tkt_bench' || i, ?3, 'Question ' || i, 'Seeded for the benchmark',
                case when i % 5 = 0 then 'assigned' else 'queued' end,
                case when i % 5 = 0 then ?4 end,
                ?5 + i * 60000, ?5 + i * 60000, ?5 + i * 60000
         from n",
    )
    .bind(scale.tickets)
    .bind(connection)
    .bind(customer)
    .bind(lead.id)
    .bind(start)
    .execute(&mut *tx)
    .await?;
    let first: i64 = sqlx::query_scalar("select id from tickets where remote_id = 'tkt_bench1'")
        .fetch_one(&mut *tx)
        .await?;
    // The long ticket: customer and agent taking turns.
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1)
         insert into messages (ticket_id, origin, type, payload, customer_id, author_id,
                               delivery, created_at)
         select ?2, case when i % 2 = 0 then 'agent' else 'customer' end, 'text',
                json_object('type', 'text', 'text',
                            'Seeded message ' || i || ': could you check my order, please?'),
                case when i % 2 = 0 then null else ?3 end,
                case when i % 2 = 0 then ?4 end,
                case when i % 2 = 0 then 'sent' end,
                ?5 + i
         from n",
    )
    .bind(scale.long_ticket)
    .bind(first)
    .bind(customer)
    .bind(lead.id)
    .bind(start)
    .execute(&mut *tx)
    .await?;
    // The rest, spread evenly over the other tickets, in words that vary as a
    // customer's do (so a search has common and rare words to find).
    sqlx::query(
        "with recursive n(i) as (select 0 union all select i + 1 from n where i < ?1 - 1)
         insert into messages (ticket_id, origin, type, payload, customer_id, created_at)
         select ?2 + 1 + (i % (?3 - 1)), 'customer', 'text',
                json_object('type', 'text', 'text',
                            'Seeded message ' || i || ': hello, I have a question about ' ||
                            case i % 7 when 0 then 'a refund' when 1 then 'my delivery'
                                       when 2 then 'an invoice' when 3 then 'my password'
                                       when 4 then 'the warranty' when 5 then 'a parcel'
                                       else 'a discount' end ||
                            ' for order ' || (i % 50000)),
                ?4, ?5 + i
         from n",
    )
    .bind(scale.messages - scale.long_ticket)
    .bind(first)
    .bind(scale.tickets)
    .bind(customer)
    .bind(start)
    .execute(&mut *tx)
    .await?;
    // What reports read, as the live paths record it: the held tickets taken within
    // minutes and most of them answered, and every ticket's messages counted.
    sqlx::query(
        "update tickets set
            taken_at = case when assignee_id is not null then created_at + (id % 13) * 17000 end,
            first_response_at = case when assignee_id is not null and id % 4 != 0
                                     then created_at + (id % 11) * 23000 + 20000 end,
            message_count = (select count(*) from messages m where m.ticket_id = tickets.id)",
    )
    .execute(&mut *tx)
    .await?;
    // A year of closed conversations before the backlog, for the year's report: one
    // every few minutes, most taken and answered within minutes, closed within hours
    // (handed back, or ended by the customer), with their message counts; and the
    // agent available eight hours a day. Their messages are not stored: reports read
    // the counts, and the 1M messages above are what the other pages read.
    let year = 365 * 24 * 3600 * 1000_i64;
    let past: i64 = sqlx::query_scalar(
        "insert into customers (public_id, connection_id, name, created_at, updated_at)
         values ('usr_bench_past', ?1, 'Earlier customers', ?2, ?2) returning id",
    )
    .bind(connection)
    .bind(start - year)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1)
         insert into tickets (connection_id, remote_id, customer_id, title, status,
                              assignee_id, created_at, updated_at, first_inbound_at,
                              taken_at, first_response_at, closed_at, closed_reason,
                              message_count, screened)
         select ?2, 'tkt_year' || i, ?3, 'Earlier conversation ' || i, 'closed',
                case when i % 10 != 0 then ?4 end,
                t, t, t,
                case when i % 10 != 0 then t + (i % 17) * 19000 end,
                case when i % 10 != 0 then t + (i % 23) * 29000 + 15000 end,
                t + (i % 10) * 900000 + 600000,
                case when i % 10 = 0 then 'customer_ended' else 'handed_back' end,
                2 + i % 11, 1
         from (select i, ?5 + i * (?6 / ?1) as t from n)",
    )
    .bind(scale.history)
    .bind(connection)
    .bind(past)
    .bind(lead.id)
    .bind(start - year)
    .bind(year)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "with recursive d(i) as (select 0 union all select i + 1 from d where i < 364)
         insert into availability_log (user_id, started_at, ended_at)
         select ?1, ?2 + i * 86400000, ?2 + i * 86400000 + 8 * 3600000 from d",
    )
    .bind(lead.id)
    .bind(start - year)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Searchable before Baton starts, as a live instance's messages are.
    backend::search::index_all(&store).await?;
    db.close().await;
    Ok(token)
}
