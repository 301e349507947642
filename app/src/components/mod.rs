//! Building blocks shared by pages.

pub mod hydration;
pub mod layout;
