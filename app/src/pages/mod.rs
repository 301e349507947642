//! One module per page.

pub mod admin;
pub mod customer;
pub mod home;
pub mod inbox;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod reports;
pub mod setup;
pub mod status;
pub mod welcome;
