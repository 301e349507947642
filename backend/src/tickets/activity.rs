//! What people did to a ticket, written in the transaction of the change itself, and
//! read back as the activity lines of the conversation.

use serde::Serialize;

use crate::Result;

/// A thing done to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Taken from the queue.
    Took,
    /// Taken from the colleague who held it (an admin).
    TookOver,
    Transferred,
    /// Handed back to the bot, which closes the ticket.
    HandedBack,
    /// The customer wrote in the closed ticket.
    Reopened,
    /// A failed message queued again.
    Resent,
    /// A label put on the ticket (its name is the line's detail).
    Labelled,
    /// A label taken off.
    Unlabelled,
    /// Given to an agent by automatic assignment (`routing`), the agent as `other`.
    Routed,
    /// Handed back to the bot by Baton: nobody could take it (the reason is the
    /// line's detail).
    Returned,
    /// Ended from the bot's side through Baton's integration (`stopHitl`; why is the
    /// line's detail).
    BotEnded,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Took => "took",
            Action::TookOver => "took_over",
            Action::Transferred => "transferred",
            Action::HandedBack => "handed_back",
            Action::Reopened => "reopened",
            Action::Resent => "resent",
            Action::Labelled => "labelled",
            Action::Unlabelled => "unlabelled",
            Action::Routed => "routed",
            Action::Returned => "returned",
            Action::BotEnded => "bot_ended",
        }
    }

    const ALL: [Action; 11] = [
        Action::Took,
        Action::TookOver,
        Action::Transferred,
        Action::HandedBack,
        Action::Reopened,
        Action::Resent,
        Action::Labelled,
        Action::Unlabelled,
        Action::Routed,
        Action::Returned,
        Action::BotEnded,
    ];

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// The audit log's name for it (`ticket.…`, so the log filters by the prefix).
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::Took => "ticket.take",
            Action::TookOver => "ticket.take_over",
            Action::Transferred => "ticket.transfer",
            Action::HandedBack => "ticket.hand_back",
            Action::Reopened => "ticket.reopen",
            Action::Resent => "ticket.resend",
            Action::Labelled => "ticket.label",
            Action::Unlabelled => "ticket.unlabel",
            Action::Routed => "ticket.route",
            Action::Returned => "ticket.return",
            Action::BotEnded => "ticket.bot_end",
        }
    }

    /// The line agents read, with the names of who acted and of the other person,
    /// and what it was about.
    fn sentence(self, actor: &str, other: &str, detail: &str) -> String {
        match self {
            Action::Took => format!("{actor} took this conversation"),
            Action::TookOver => format!("{actor} took this conversation over from {other}"),
            Action::Transferred => format!("{actor} transferred it to {other}"),
            Action::HandedBack => format!("{actor} handed it back to the bot"),
            Action::Reopened => "The customer wrote again, so it reopened".to_owned(),
            Action::Resent => format!("{actor} resent a message"),
            Action::Labelled => format!("{actor} added the label {detail}"),
            Action::Unlabelled => format!("{actor} removed the label {detail}"),
            Action::Routed => format!("Assigned automatically to {other}"),
            Action::Returned => format!("Handed back to the bot: {detail}"),
            Action::BotEnded => format!("Ended from the bot's side: {detail}"),
        }
    }
}

/// Writes one activity line in the transaction of the change. Code still on SQLite's
/// own queries passes `&mut store_sqlite::on(conn)`.
pub(crate) async fn record(
    tx: &mut dyn store::Tx,
    ticket: i64,
    actor: Option<i64>,
    action: Action,
    other: Option<i64>,
    detail: Option<&str>,
    now: i64,
) -> Result<()> {
    let line = store::activity::NewLine {
        ticket,
        actor,
        action: action.as_str(),
        other,
        detail,
        at: now,
    };
    tx.activity_insert(&line).await?;
    Ok(())
}

/// One activity line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub at: i64,
    pub text: String,
}

/// The ticket's activity from `since` (ms) on, oldest first.
pub async fn since(store: &dyn store::Store, ticket: i64, since: i64) -> Result<Vec<Line>> {
    let rows = store
        .autocommit()
        .await?
        .activity_since(ticket, since)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let action = Action::parse(&r.action)?;
            Some(Line {
                at: r.at,
                text: action.sentence(
                    r.actor.as_deref().unwrap_or("Someone"),
                    r.other.as_deref().unwrap_or("someone"),
                    r.detail.as_deref().unwrap_or("?"),
                ),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_reads_as_a_sentence_and_round_trips() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert!(a.audit_name().starts_with("ticket."));
        }
        assert_eq!(
            Action::TookOver.sentence("Ana", "Bo", ""),
            "Ana took this conversation over from Bo"
        );
        assert_eq!(
            Action::Transferred.sentence("Ana", "Bo", ""),
            "Ana transferred it to Bo"
        );
        assert_eq!(
            Action::Labelled.sentence("Ana", "", "Refund"),
            "Ana added the label Refund"
        );
        assert_eq!(
            Action::Routed.sentence("Someone", "Bo", ""),
            "Assigned automatically to Bo"
        );
    }
}
