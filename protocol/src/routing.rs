//! Routing: how a connection's new tickets find an agent, how many an agent holds,
//! business hours, and what happens when nobody can take a conversation.

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

named_enum! {
    /// What Baton does with a conversation nobody can take: outside business hours,
    /// with no agent available, or past the wait limit.
    pub enum WhenUnavailable as "action" {
        /// It stays in the queue until someone takes it (the default).
        Queue = "queue",
        /// The customer is sent the connection's message, and the conversation goes
        /// back to the bot (`/stop-hitl`).
        HandBack = "hand_back",
    }
}

/// The longest message sent to a customer nobody can take, or about their place.
pub const MAX_NOTICE_CHARS: usize = 1_000;
/// The longest wait limit, in minutes (a day).
pub const MAX_WAIT_MINUTES: i64 = 1_440;
/// Open spans a day may have.
const MAX_SPANS: usize = 6;
/// Holidays a connection may list.
const MAX_HOLIDAYS: usize = 400;

/// When a connection's team works: a time zone, open spans per weekday (a day
/// left out or empty is closed), and holidays (closed all day).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// An IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    #[serde(default)]
    pub weekly: Weekly,
    /// Days closed all day, `YYYY-MM-DD` in the time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Open spans per weekday.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    #[serde(default)]
    pub mon: Vec<Span>,
    #[serde(default)]
    pub tue: Vec<Span>,
    #[serde(default)]
    pub wed: Vec<Span>,
    #[serde(default)]
    pub thu: Vec<Span>,
    #[serde(default)]
    pub fri: Vec<Span>,
    #[serde(default)]
    pub sat: Vec<Span>,
    #[serde(default)]
    pub sun: Vec<Span>,
}

/// The weekdays, Monday first, as `Weekly` names them.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The weekdays, Monday first, as people read them (pages, CSV headers).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl Weekly {
    /// A day's spans, Monday = 0.
    pub fn day(&self, index: usize) -> &[Span] {
        match index {
            0 => &self.mon,
            1 => &self.tue,
            2 => &self.wed,
            3 => &self.thu,
            4 => &self.fri,
            5 => &self.sat,
            _ => &self.sun,
        }
    }

    pub fn day_mut(&mut self, index: usize) -> &mut Vec<Span> {
        match index {
            0 => &mut self.mon,
            1 => &mut self.tue,
            2 => &mut self.wed,
            3 => &mut self.thu,
            4 => &mut self.fri,
            5 => &mut self.sat,
            _ => &mut self.sun,
        }
    }
}

/// From `from` to `to`, local times `HH:MM` (`to` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub from: String,
    pub to: String,
}

/// Minutes since midnight of `HH:MM` (00:00 to 24:00).
pub fn minutes(raw: &str) -> Result<u32, String> {
    let bad = || format!("{raw:?} is not a time: write it as HH:MM, e.g. 09:00");
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Checks `YYYY-MM-DD` (a real day of the Gregorian calendar).
pub fn check_day(raw: &str) -> Result<(), String> {
    let bad = || format!("{raw:?} is not a day: write it as YYYY-MM-DD");
    let parts: Vec<&str> = raw.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

impl Hours {
    /// Checks everything but whether the time zone exists (the server knows the
    /// zones); messages say which day and span.
    pub fn check(&self) -> Result<(), String> {
        let tz = self.time_zone.trim();
        if tz.is_empty() || tz.len() > 64 {
            return Err("business hours need a time zone, e.g. Europe/Paris".into());
        }
        for (i, name) in WEEKDAYS.iter().enumerate() {
            let spans = self.weekly.day(i);
            if spans.len() > MAX_SPANS {
                return Err(format!("{name}: at most {MAX_SPANS} open spans a day"));
            }
            let mut taken: Vec<(u32, u32)> = Vec::new();
            for span in spans {
                let (from, to) = (minutes(&span.from)?, minutes(&span.to)?);
                if from >= to {
                    return Err(format!(
                        "{name}: {} to {} ends before it starts",
                        span.from, span.to
                    ));
                }
                if taken.iter().any(|&(f, t)| from < t && f < to) {
                    return Err(format!("{name}: open spans overlap"));
                }
                taken.push((from, to));
            }
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(format!("at most {MAX_HOLIDAYS} holidays"));
        }
        for day in &self.holidays {
            check_day(day)?;
        }
        Ok(())
    }

    /// Whether it is open on `weekday` (Monday = 0) of `day` (`YYYY-MM-DD`) at
    /// `minute` past local midnight.
    pub fn open_at(&self, day: &str, weekday: usize, minute: u32) -> bool {
        if self.holidays.iter().any(|h| h == day) {
            return false;
        }
        self.weekly.day(weekday).iter().any(|s| {
            matches!((minutes(&s.from), minutes(&s.to)), (Ok(f), Ok(t)) if f <= minute && minute < t)
        })
    }
}

/// A day's spans as people type them: `09:00-12:00, 13:00-17:30`; blank is closed.
pub fn parse_spans(raw: &str) -> Result<Vec<Span>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (from, to) = s
                .split_once('-')
                .ok_or_else(|| format!("{s:?} is not a span: write it as 09:00-17:00"))?;
            minutes(from)?;
            minutes(to)?;
            Ok(Span {
                from: from.trim().to_owned(),
                to: to.trim().to_owned(),
            })
        })
        .collect()
}

/// A day's spans as `parse_spans` reads them.
pub fn format_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| format!("{}-{}", s.from, s.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The queue-position text with `{position}` filled in.
pub fn position_text(template: &str, position: i64) -> String {
    template.replace("{position}", &position.to_string())
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

    fn span(from: &str, to: &str) -> Span {
        Span {
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn hours_are_checked_and_read() {
        let mut hours = Hours {
            time_zone: "Europe/Paris".into(),
            ..Hours::default()
        };
        hours.weekly.mon = vec![span("09:00", "12:00"), span("13:00", "24:00")];
        hours.holidays = vec!["2026-12-25".into()];
        assert_eq!(hours.check(), Ok(()));
        assert!(hours.open_at("2026-11-30", 0, 9 * 60));
        assert!(
            !hours.open_at("2026-11-30", 0, 12 * 60),
            "the end is not open"
        );
        assert!(hours.open_at("2026-11-30", 0, 23 * 60 + 59));
        assert!(
            !hours.open_at("2026-11-30", 1, 10 * 60),
            "Tuesday is closed"
        );
        assert!(!hours.open_at("2026-12-25", 0, 10 * 60), "a holiday");

        let bad = |h: &Hours| h.check().unwrap_err();
        let mut h = hours.clone();
        h.weekly.tue = vec![span("10:00", "09:00")];
        assert!(bad(&h).contains("tue: 10:00 to 09:00 ends before it starts"));
        h.weekly.tue = vec![span("09:00", "11:00"), span("10:30", "12:00")];
        assert!(bad(&h).contains("overlap"));
        h.weekly.tue = vec![span("9:00", "11:00")];
        assert!(bad(&h).contains("HH:MM"));
        h.weekly.tue = vec![span("09:00", "24:01")];
        assert!(bad(&h).contains("HH:MM"));
        let mut h = hours.clone();
        h.holidays = vec!["2026-02-29".into()];
        assert!(bad(&h).contains("YYYY-MM-DD"));
        h.holidays = vec!["2028-02-29".into()];
        assert_eq!(h.check(), Ok(()));
        h.time_zone = " ".into();
        assert!(bad(&h).contains("time zone"));
    }

    #[test]
    fn spans_round_trip_through_text() {
        let spans = parse_spans(" 09:00-12:00 , 13:00-17:30,").unwrap();
        assert_eq!(spans, [span("09:00", "12:00"), span("13:00", "17:30")]);
        assert_eq!(format_spans(&spans), "09:00-12:00, 13:00-17:30");
        assert_eq!(parse_spans("  "), Ok(vec![]));
        assert!(parse_spans("9 to 5").unwrap_err().contains("09:00-17:00"));
        assert_eq!(
            position_text("You are number {position}.", 3),
            "You are number 3."
        );
    }
}
