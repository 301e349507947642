//! The baseline for the ingest measure: the least an axum + sqlx server can do for a
//! `/botSendsMessage`-shaped request, which is parse the JSON and insert one row.
//! It opens SQLite with Baton's durability settings (WAL, `synchronous=FULL`, the
//! same busy timeout, foreign keys, pool size), so the ratio between the two is what
//! Baton's own work costs, not a difference in durability. Checkpointing is SQLite's
//! default (automatic, inside commits), as a plain server would have it.

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub async fn serve(addr: SocketAddr, database: &Path) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::from_str(&crate::process::database_url(database))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(backend::db::BUSY_TIMEOUT)
        .foreign_keys(true);
    let db = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::query(
        "create table if not exists messages (
             id integer primary key,
             conversation text not null,
             payload text not null check (json_valid(payload)),
             created_at integer not null
         ) strict",
    )
    .execute(&db)
    .await?;
    sqlx::query("create index if not exists messages_conversation on messages (conversation, id)")
        .execute(&db)
        .await?;
    let app = axum::Router::new()
        .route("/ingest", post(ingest))
        .route("/readyz", axum::routing::get(|| async { "ok" }))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn ingest(
    State(db): State<SqlitePool>,
    axum::Json(body): axum::Json<Value>,
) -> Result<&'static str, StatusCode> {
    let conversation = body["remoteConversationId"]
        .as_str()
        .ok_or(StatusCode::BAD_REQUEST)?;
    sqlx::query("insert into messages (conversation, payload, created_at) values (?, ?, ?)")
        .bind(conversation)
        .bind(body["payload"].to_string())
        .bind(backend::clock::now_ms())
        .execute(&db)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok("{}")
}
