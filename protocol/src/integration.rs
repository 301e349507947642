//! Which Botpress integration a connection serves. Both call the same endpoint URL;
//! they differ in what they send and in how Baton calls them back (docs/botpress.md
//! §4 and §6 for `hitl_api`, §15 for `baton`).

use crate::named_enum;

named_enum! {
    /// The integration installed on the bot for this connection.
    pub enum Integration as "integration" {
        /// *Human in the Loop API* (`plus/hitl-api`, HITL interface 0.4): the bot owner
        /// pastes the webhook URL into Baton; Baton's calls to it are unsigned, because
        /// that integration cannot check a signature.
        HitlApi = "hitl_api",
        /// Baton's own integration (`botpress-integration/`, HITL interface 2.1):
        /// registration brings the webhook URL, and every call to it is signed.
        Baton = "baton",
    }
}

impl Integration {
    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            Integration::HitlApi => "Human in the Loop API (plus/hitl-api)",
            Integration::Baton => "Baton's integration (HITL 2.1)",
        }
    }
}
