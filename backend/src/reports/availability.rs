//! When each agent was available (a tab open and *Available* chosen), kept as
//! intervals so reports can say how long, for any past period.
//!
//! The realtime side calls [`sync`] whenever an agent's sockets or choice change; it
//! opens an interval when they become available and closes it when they stop. At
//! start-up, intervals a stopped process left open are closed at the agent's last
//! request ([`close_stale`]).

use std::collections::HashMap;

use sqlx::SqlitePool;

use crate::clock::now_ms;
use crate::{Result, Services, db};

/// Records whether `user` is available now, in the background (a log entry must not
/// slow a socket down; a failure is logged).
pub fn sync(services: &Services, user: i64) {
    let services = services.clone();
    tokio::spawn(async move {
        let ready = services.hub.sockets().ready().contains(&user);
        if let Err(e) = record(&services.db, user, ready, now_ms()).await {
            tracing::warn!(error = ?e, user, "cannot record availability");
        }
    });
}

/// Opens an interval for `user` if `ready` and none is open; closes the open one if
/// not.
pub async fn record(db: &SqlitePool, user: i64, ready: bool, now: i64) -> Result<()> {
    let mut tx = db::begin_write(db).await?;
    if ready {
        sqlx::query!(
            "insert or ignore into availability_log (user_id, started_at) values (?, ?)",
            user,
            now
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "update availability_log set ended_at = max(started_at, ?)
             where user_id = ? and ended_at is null",
            now,
            user
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Closes intervals left open by a process that stopped, at the agent's last request
/// (or where they began, if that is later).
pub async fn close_stale(db: &SqlitePool) -> Result<u64> {
    let mut tx = db::begin_write(db).await?;
    let closed = sqlx::query!(
        "update availability_log
         set ended_at = max(started_at, coalesce((select last_seen_at from users u
                                                   where u.id = availability_log.user_id),
                                                  started_at))
         where ended_at is null"
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(closed)
}

/// Seconds each agent was available within `[start, end)` (UTC ms); an interval
/// still open counts until now.
pub async fn seconds(db: &SqlitePool, start: i64, end: i64) -> Result<HashMap<i64, i64>> {
    let now = now_ms();
    let rows = sqlx::query!(
        r#"select user_id,
                  sum(max(0, min(coalesce(ended_at, ?3), ?2) - max(started_at, ?1)))
                    as "ms!: i64"
           from availability_log
           where started_at < ?2 and coalesce(ended_at, ?3) > ?1
           group by user_id"#,
        start,
        end,
        now
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.ms / 1000)).collect())
}
