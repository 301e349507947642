//! Tickets: the one home for their lifecycle, the commands people give, the views
//! agents read, and read state.
//!
//! - `lifecycle`: every status change (close, reopen, requeue), whoever causes it;
//! - `commands`: what people do (take, transfer, reply, resend, hand back) and who may;
//! - `activity`: the "Ana took this" lines of a transcript;
//! - `views`: the ticket lists, paged, and the transcripts agents read;
//! - `conversation`: one ticket's facts and its customer, for the details pane;
//! - `reads`: how far each agent has read, and which mentions they have seen;
//! - `notes`: private notes between colleagues, and their @mentions;
//! - `export`: a conversation as a transcript, tickets as CSV rows.
//!
//! Botpress's own calls (a new ticket, a message, a close) arrive in
//! `botpress::inbound`, which stores them and calls `lifecycle` for status changes.

pub mod activity;
pub mod commands;
pub mod conversation;
pub mod export;
pub mod lifecycle;
pub mod notes;
pub mod reads;
pub mod views;

pub use commands::{
    AGENT_TYPES, By, agent_payload, assign, close_abandoned, hand_back, housekeeping, resend,
    send_message,
};
pub use protocol::ticket::{ClosedReason, Delivery, Origin, Status};

use serde::Serialize;
use sqlx::SqlitePool;

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub connection_id: i64,
    pub remote_id: String,
    pub customer_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub assignee_id: Option<i64>,
    pub recovered: bool,
    pub botpress_conversation_id: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub closed_reason: Option<ClosedReason>,
}

pub async fn get(db: &SqlitePool, id: i64) -> Result<Ticket> {
    sqlx::query_as!(
        Ticket,
        r#"select id as "id!", connection_id, remote_id, customer_id, title, description,
                  status as "status: Status", assignee_id, recovered as "recovered: bool",
                  botpress_conversation_id, created_at, closed_at,
                  closed_reason as "closed_reason: ClosedReason"
           from tickets where id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("ticket"))
}
