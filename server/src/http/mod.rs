//! Plain HTTP handlers (everything that is not a Leptos page or server function).

pub mod error;
pub mod health;
