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

use store::Store;

use crate::{Error, Result};

/// A ticket's own columns.
pub type Ticket = store::views::TicketRow;

pub async fn get(store: &dyn Store, id: i64) -> Result<Ticket> {
    store
        .autocommit()
        .await?
        .ticket_get(id)
        .await?
        .ok_or(Error::NotFound("ticket"))
}
