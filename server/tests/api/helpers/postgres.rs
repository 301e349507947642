//! A PostgreSQL database of a test's own, in the cluster that `cargo xtask test` starts
//! for the run (it sets `BATON_TEST_POSTGRES_URL` to the cluster's maintenance
//! database).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// Creates an empty database and returns its URL.
pub async fn postgres_database() -> String {
    let admin = std::env::var("BATON_TEST_POSTGRES_URL").expect(
        "BATON_TEST_POSTGRES_URL is not set: `cargo xtask test unit` starts a throwaway \
         PostgreSQL cluster and sets it; by hand, point it at a cluster where you may \
         create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres",
    );
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "baton_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    // Everything after the last slash is the database; the rest is the cluster.
    let (cluster, _) = admin.rsplit_once('/').unwrap();
    format!("{cluster}/{name}")
}
