//! A ticket's lifecycle and its messages, as stored and as shown.

use crate::named_enum;

named_enum! {
    /// Where a ticket is in its life. Queued until someone takes it; closed for good
    /// unless the customer writes again (then queued).
    pub enum Status as "ticket status" {
        Queued = "queued",
        Assigned = "assigned",
        Closed = "closed",
    }
}

named_enum! {
    /// Why a ticket closed.
    pub enum ClosedReason as "closed reason" {
        /// The customer ended the session (the plugin's end notice).
        CustomerEnded = "customer_ended",
        /// Botpress closed it (`closeRemoteTicket`).
        BotClosed = "bot_closed",
        /// An agent closed it without handing it back.
        AgentClosed = "agent_closed",
        /// An agent handed the conversation back to the bot (`/stop-hitl`).
        HandedBack = "handed_back",
        /// Queued without a single message for too long (a duplicate create).
        Abandoned = "abandoned",
    }
}

impl ClosedReason {
    /// How people read it: "closed (handed back)".
    pub fn label(self) -> &'static str {
        match self {
            ClosedReason::CustomerEnded => "customer ended",
            ClosedReason::BotClosed => "bot closed",
            ClosedReason::AgentClosed => "agent closed",
            ClosedReason::HandedBack => "handed back",
            ClosedReason::Abandoned => "abandoned",
        }
    }

    /// The Botpress side ended the session: calls still waiting to be delivered would
    /// be dropped by Botpress, so they are failed instead of sent.
    pub fn ended_by_botpress(self) -> bool {
        matches!(self, ClosedReason::CustomerEnded | ClosedReason::BotClosed)
    }
}

named_enum! {
    /// Who said a message.
    pub enum Origin as "message origin" {
        /// The end user, relayed by Botpress.
        Customer = "customer",
        /// A notice Botpress sent on the bot's behalf (`userId` was empty).
        System = "system",
        /// An agent, through Baton.
        Agent = "agent",
        /// What the customer said before the handoff (imported from Botpress).
        TranscriptCustomer = "transcript_customer",
        /// What the bot said before the handoff (imported from Botpress).
        TranscriptBot = "transcript_bot",
    }
}

named_enum! {
    /// Where an agent's message is on its way to the bot.
    pub enum Delivery as "delivery state" {
        Pending = "pending",
        Sent = "sent",
        /// Not delivered, or it may not have been: the agent may resend it.
        Failed = "failed",
    }
}

named_enum! {
    /// How urgent a ticket is. Set by the bot when it hands over (Baton's own Botpress
    /// integration, `hitlSession.priority`); a ticket without one is `normal`. Automatic
    /// routing serves urgent, high, normal, then low (the order is in the stores' SQL).
    pub enum Priority as "priority" {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}
