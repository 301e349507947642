//! The realtime channel (`/ws`): one websocket per tab or program, carrying numbered
//! change events.
//!
//! - connect to `/ws?since=<epoch>:<seq>` after a drop (omit `since` the first time);
//! - the server sends [`ServerFrame::Hello`], then either the events missed since
//!   `since` or [`ServerFrame::Resync`] (refetch what you show), then live events;
//! - [`ServerFrame::Heartbeat`] after [`HEARTBEAT_SECS`] of silence; a client that
//!   hears nothing for [`SILENCE_SECS`] should reconnect;
//! - the client sends [`ClientFrame`]s: presence, and which ticket it has open and
//!   when its person types there, which the server relays to the colleagues who
//!   have the same ticket open as [`ServerFrame::Here`] ("who else is here");
//! - the server closes with [`close::SIGNED_OUT`] when the caller's access ends.
//!
//! Events carry no content: clients refetch what they show, so the server stays the
//! one source of truth.

use serde::{Deserialize, Serialize};

use crate::account::Presence;
use crate::ticket::Origin;

/// Seconds of silence after which the server sends a heartbeat.
pub const HEARTBEAT_SECS: u64 = 15;
/// Seconds of silence after which a client treats the link as dead.
pub const SILENCE_SECS: u64 = 40;

/// How long "is typing" lasts after the last typing frame: a person who stops
/// typing (or whose tab dies) stops showing as typing this soon.
pub const TYPING_SECS: u64 = 4;
/// The least time between two typing frames a client sends while its person types.
pub const TYPING_EVERY_MS: u64 = 1_500;
/// The longest ticket name a viewing frame may carry.
pub const MAX_TICKET_CHARS: usize = 128;

/// Close codes the server ends a socket with (besides the standard ones).
pub mod close {
    /// The caller's access ended (signed out, deactivated, token revoked): the client
    /// sends the person to sign in instead of reconnecting.
    pub const SIGNED_OUT: u16 = 4001;
}

/// What changed. Tickets are named by the id Botpress knows them by (as in the REST
/// API), agents by their public id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    TicketCreated {
        ticket: String,
    },
    MessageAdded {
        ticket: String,
        message: i64,
        origin: Origin,
    },
    /// The conversation before the handoff was imported from Botpress.
    TranscriptImported {
        ticket: String,
    },
    DeliveryChanged {
        ticket: String,
        message: i64,
    },
    /// Baton now serves its own copy of the media a message linked to.
    MediaCopied {
        ticket: String,
        message: i64,
    },
    /// Taken, transferred, or back in the queue (`agent` is then `None`).
    Assigned {
        ticket: String,
        agent: Option<String>,
    },
    Closed {
        ticket: String,
    },
    /// Someone else gave the receiving agent this ticket: automatic assignment or a
    /// colleague's transfer (sent to them alone, besides `assigned`).
    AssignedToYou {
        ticket: String,
    },
    Presence {
        agent: String,
        presence: Presence,
    },
    /// The receiving agent's read state of a ticket changed (on another device).
    Unread {
        ticket: String,
    },
    /// A colleague wrote a private note on the ticket.
    NoteAdded {
        ticket: String,
        note: i64,
    },
    /// A note mentions the receiving agent (sent to them alone).
    Mentioned {
        ticket: String,
        note: i64,
    },
    /// A label was put on the ticket or taken off, or one it carries changed.
    LabelsChanged {
        ticket: String,
    },
    /// A customer's details or notes changed (`customer` is their public id).
    CustomerChanged {
        customer: String,
    },
}

impl Change {
    /// The ticket this change is about, if it is about one.
    pub fn ticket(&self) -> Option<&str> {
        match self {
            Change::TicketCreated { ticket }
            | Change::MessageAdded { ticket, .. }
            | Change::TranscriptImported { ticket }
            | Change::DeliveryChanged { ticket, .. }
            | Change::MediaCopied { ticket, .. }
            | Change::Assigned { ticket, .. }
            | Change::Closed { ticket }
            | Change::AssignedToYou { ticket }
            | Change::Unread { ticket }
            | Change::NoteAdded { ticket, .. }
            | Change::Mentioned { ticket, .. }
            | Change::LabelsChanged { ticket } => Some(ticket),
            Change::Presence { .. } | Change::CustomerChanged { .. } => None,
        }
    }

    /// What pages match a change against: the ticket, or the customer it is about.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Change::CustomerChanged { customer } => Some(customer),
            other => other.ticket(),
        }
    }
}

/// A numbered change: `{"seq":…,"type":…,…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    #[serde(flatten)]
    pub change: Change,
}

/// Every frame the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First on every socket: the run's epoch and the last number given out.
    Hello {
        epoch: String,
        seq: u64,
    },
    /// What the client missed is gone (another run, or too far back): refetch
    /// everything shown; events continue after `seq`.
    Resync {
        seq: u64,
    },
    Heartbeat,
    /// Who has `ticket` open now, and who of them is typing. Sent to the sockets
    /// viewing that ticket whenever this changes. Not numbered: it is the present,
    /// not a change to catch up on.
    Here {
        ticket: String,
        people: Vec<Viewer>,
    },
    #[serde(untagged)]
    Event(Event),
}

/// One person with a ticket open (however many tabs they have it open in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// Their public id.
    pub agent: String,
    pub name: String,
    pub typing: bool,
}

/// Every frame a client may send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The tab is in use.
    Active,
    /// The tab is hidden or untouched for a while.
    Idle,
    /// The tab shows this ticket now (`None`: no ticket). Also ends "typing".
    Viewing { ticket: Option<String> },
    /// The person is typing in the ticket the tab shows; repeated while they type.
    Typing { ticket: String },
}

/// Where a reconnecting client left off: `epoch:seq`, the `since` query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    pub epoch: String,
    pub seq: u64,
}

impl Since {
    pub fn parse(raw: &str) -> Option<Self> {
        let (epoch, seq) = raw.split_once(':')?;
        Some(Self {
            epoch: epoch.to_owned(),
            seq: seq.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Since {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.epoch, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(frame: &ServerFrame, wire: serde_json::Value) {
        assert_eq!(serde_json::to_value(frame).unwrap(), wire);
        let back: ServerFrame = serde_json::from_value(wire).unwrap();
        assert_eq!(&back, frame);
    }

    #[test]
    fn frames_keep_their_wire_shape() {
        round_trip(
            &ServerFrame::Hello {
                epoch: "ab12".into(),
                seq: 7,
            },
            json!({"type": "hello", "epoch": "ab12", "seq": 7}),
        );
        round_trip(
            &ServerFrame::Resync { seq: 9 },
            json!({"type": "resync", "seq": 9}),
        );
        round_trip(&ServerFrame::Heartbeat, json!({"type": "heartbeat"}));
        round_trip(
            &ServerFrame::Here {
                ticket: "tkt_1".into(),
                people: vec![Viewer {
                    agent: "agt_1".into(),
                    name: "Ana".into(),
                    typing: true,
                }],
            },
            json!({"type": "here", "ticket": "tkt_1",
                   "people": [{"agent": "agt_1", "name": "Ana", "typing": true}]}),
        );
        round_trip(
            &ServerFrame::Event(Event {
                seq: 2,
                change: Change::Assigned {
                    ticket: "tkt_1".into(),
                    agent: None,
                },
            }),
            json!({"seq": 2, "type": "assigned", "ticket": "tkt_1", "agent": null}),
        );
        round_trip(
            &ServerFrame::Event(Event {
                seq: 3,
                change: Change::MessageAdded {
                    ticket: "tkt_1".into(),
                    message: 5,
                    origin: Origin::Customer,
                },
            }),
            json!({"seq": 3, "type": "message_added", "ticket": "tkt_1", "message": 5, "origin": "customer"}),
        );
        round_trip(
            &ServerFrame::Event(Event {
                seq: 4,
                change: Change::Presence {
                    agent: "usr_1".into(),
                    presence: Presence::Away,
                },
            }),
            json!({"seq": 4, "type": "presence", "agent": "usr_1", "presence": "away"}),
        );
        round_trip(
            &ServerFrame::Event(Event {
                seq: 5,
                change: Change::Mentioned {
                    ticket: "tkt_1".into(),
                    note: 9,
                },
            }),
            json!({"seq": 5, "type": "mentioned", "ticket": "tkt_1", "note": 9}),
        );
    }

    #[test]
    fn client_frames_and_since_parse() {
        let active: ClientFrame = serde_json::from_str(r#"{"type":"active"}"#).unwrap();
        assert_eq!(active, ClientFrame::Active);
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
        let viewing: ClientFrame =
            serde_json::from_str(r#"{"type":"viewing","ticket":"tkt_1"}"#).unwrap();
        assert_eq!(
            viewing,
            ClientFrame::Viewing {
                ticket: Some("tkt_1".into())
            }
        );
        let since = Since::parse("abc:12").unwrap();
        assert_eq!(since.seq, 12);
        assert_eq!(since.to_string(), "abc:12");
        assert!(Since::parse("abc").is_none() && Since::parse("abc:x").is_none());
    }
}
