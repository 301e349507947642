//! Building blocks shared by pages.

pub mod alerts;
pub mod guard;
pub mod hydration;
pub mod layout;
pub mod live;
pub mod message;
pub mod time;

/// Asks the person in front of the screen to confirm a consequential action. On the
/// server there is nobody to ask (and no click to answer), so it says no.
pub fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .confirm_with_message(question)
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}
