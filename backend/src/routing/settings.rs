//! Each connection's routing settings: manual or automatic assignment, the default
//! capacity, business hours, what happens to a conversation nobody can take, and
//! the text that tells customers their place in the queue. Changed by admins,
//! audited.

use protocol::routing::{
    Assignment, Hours, MAX_NOTICE_CHARS, MAX_WAIT_MINUTES, WhenUnavailable, check_capacity,
};
use serde::Serialize;

use crate::audit::{self, Actor};
use crate::effects::{Effects, Worker};
use crate::users::User;
use crate::{Error, Result, Services};

/// How a connection's tickets find agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub assignment: Assignment,
    /// Open tickets an agent holds at most, unless their own capacity says otherwise.
    pub default_capacity: i64,
    /// `None`: always open.
    pub hours: Option<Hours>,
    pub when_unavailable: WhenUnavailable,
    /// Sent to the customer before a hand-back (none when empty).
    pub unavailable_message: String,
    /// Queued longer than this many minutes counts as nobody can take it.
    pub wait_limit_minutes: Option<i64>,
    /// Told to waiting customers, `{position}` filled in; `None`: off.
    pub queue_position_text: Option<String>,
}

/// What to change; `None` keeps what is there (and `Some(None)` clears).
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub assignment: Option<Assignment>,
    pub default_capacity: Option<i64>,
    pub hours: Option<Option<Hours>>,
    pub when_unavailable: Option<WhenUnavailable>,
    pub unavailable_message: Option<String>,
    pub wait_limit_minutes: Option<Option<i64>>,
    pub queue_position_text: Option<Option<String>>,
}

pub async fn get(store: &dyn store::Store, connection: i64) -> Result<Routing> {
    get_in(&mut *store.autocommit().await?, connection).await
}

async fn get_in(tx: &mut dyn store::Tx, connection: i64) -> Result<Routing> {
    let r = tx
        .routing_get(connection)
        .await?
        .ok_or(Error::NotFound("connection"))?;
    Ok(Routing {
        assignment: r.assignment,
        default_capacity: r.default_capacity,
        hours: parse_hours(r.hours.as_deref())?,
        when_unavailable: r.when_unavailable,
        unavailable_message: r.unavailable_message,
        wait_limit_minutes: r.wait_limit_minutes,
        queue_position_text: r.queue_position_text,
    })
}

/// Stored hours (checked when saved).
pub(crate) fn parse_hours(stored: Option<&str>) -> Result<Option<Hours>> {
    stored
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| Error::Internal(format!("stored business hours are malformed: {e}")))
}

/// Checks a whole set of settings; messages say which field.
fn check(r: &Routing) -> Result<()> {
    check_capacity(r.default_capacity).map_err(Error::Invalid)?;
    if let Some(hours) = &r.hours {
        hours.check().map_err(Error::Invalid)?;
        super::hours::zone(&hours.time_zone)?;
    }
    if r.unavailable_message.chars().count() > MAX_NOTICE_CHARS {
        return Err(Error::invalid(format!(
            "the message is at most {MAX_NOTICE_CHARS} characters"
        )));
    }
    if let Some(limit) = r.wait_limit_minutes
        && !(1..=MAX_WAIT_MINUTES).contains(&limit)
    {
        return Err(Error::invalid(format!(
            "the wait limit is from 1 to {MAX_WAIT_MINUTES} minutes, not {limit}"
        )));
    }
    if let Some(text) = &r.queue_position_text {
        if text.chars().count() > MAX_NOTICE_CHARS {
            return Err(Error::invalid(format!(
                "the queue position text is at most {MAX_NOTICE_CHARS} characters"
            )));
        }
        if !text.contains("{position}") {
            return Err(Error::invalid(
                "the queue position text needs {position} where the number goes",
            ));
        }
    }
    Ok(())
}

/// Changes a connection's routing. Whatever it changes, the router looks again at
/// once (switching to automatic assigns what waits, if agents are available).
pub async fn set(
    services: &Services,
    by: &User,
    actor: &Actor,
    connection: i64,
    edit: Edit,
) -> Result<Routing> {
    super::admin(by, "routing")?;
    let mut tx = services.store.write().await?;
    let old = get_in(&mut *tx, connection).await?;
    let blank_is_none = |t: String| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    let new = Routing {
        assignment: edit.assignment.unwrap_or(old.assignment),
        default_capacity: edit.default_capacity.unwrap_or(old.default_capacity),
        hours: edit.hours.unwrap_or(old.hours),
        when_unavailable: edit.when_unavailable.unwrap_or(old.when_unavailable),
        unavailable_message: edit
            .unavailable_message
            .map(|m| m.trim().to_owned())
            .unwrap_or(old.unavailable_message),
        wait_limit_minutes: edit.wait_limit_minutes.unwrap_or(old.wait_limit_minutes),
        queue_position_text: edit
            .queue_position_text
            .map(|t| t.and_then(blank_is_none))
            .unwrap_or(old.queue_position_text),
    };
    check(&new)?;
    let hours = new
        .hours
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Internal(format!("cannot encode hours: {e}")))?;
    let stored = store::routing::Settings {
        assignment: new.assignment,
        default_capacity: new.default_capacity,
        hours,
        when_unavailable: new.when_unavailable,
        unavailable_message: new.unavailable_message.clone(),
        wait_limit_minutes: new.wait_limit_minutes,
        queue_position_text: new.queue_position_text.clone(),
    };
    tx.routing_set(connection, &stored).await?;
    let detail = serde_json::json!({ "connection": connection, "routing": new });
    audit::record(&mut *tx, actor, "connection.routing", detail).await?;
    let mut effects = Effects::new();
    effects.wake(Worker::Router);
    services.commit_session(tx, effects).await?;
    Ok(new)
}
