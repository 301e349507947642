//! Routing: how a connection's new tickets find an agent, and how many an agent holds.

use crate::named_enum;

named_enum! {
    /// Per connection: new tickets wait in the queue until someone takes them
    /// (manual), or go to an available agent who serves the connection and has room
    /// (automatic).
    pub enum Assignment as "assignment mode" {
        Manual = "manual",
        Automatic = "automatic",
    }
}

/// The most open tickets an agent may be given at once, and the least.
pub const MAX_CAPACITY: i64 = 100;
pub const MIN_CAPACITY: i64 = 1;

/// The longest team name.
pub const MAX_TEAM_NAME: usize = 60;

/// Checks a capacity (open tickets an agent may hold); the message is safe to show.
pub fn check_capacity(capacity: i64) -> Result<i64, String> {
    if (MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
        Ok(capacity)
    } else {
        Err(format!(
            "a capacity is a number of open tickets from {MIN_CAPACITY} to {MAX_CAPACITY}, not {capacity}"
        ))
    }
}

/// Trims a team name and checks it; the message is safe to show.
pub fn check_team_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("a team needs a name".into());
    }
    if name.chars().count() > MAX_TEAM_NAME {
        return Err(format!(
            "a team name has at most {MAX_TEAM_NAME} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a team name cannot contain control characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_and_names_are_checked() {
        assert_eq!(check_capacity(1), Ok(1));
        assert_eq!(check_capacity(100), Ok(100));
        assert!(check_capacity(0).is_err());
        assert!(check_capacity(101).is_err());
        assert_eq!(check_team_name("  Billing "), Ok("Billing".into()));
        assert!(check_team_name("   ").is_err());
        assert!(check_team_name(&"x".repeat(61)).is_err());
        assert!(check_team_name("a\u{7}b").is_err());
        assert_eq!("automatic".parse::<Assignment>(), Ok(Assignment::Automatic));
    }
}
