//! Business hours on the clock: whether a connection is open at an instant, in its
//! time zone (daylight-saving changes included, by the time zone database).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use protocol::routing::Hours;

use crate::{Error, Result};

/// The zone an admin typed, or a message saying it is unknown.
pub fn zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name.trim()).map_err(|_| {
        Error::invalid(format!(
            "{:?} is not a time zone: use a name such as Europe/Paris or America/New_York",
            name.trim()
        ))
    })
}

/// Whether `hours` are open at `at` (UTC milliseconds).
pub fn open_at(hours: &Hours, at: i64) -> Result<bool> {
    let zone = zone(&hours.time_zone)?;
    let instant = Timestamp::from_millisecond(at)
        .map_err(|e| Error::Internal(format!("a time out of range: {e}")))?;
    let local = instant.to_zoned(zone);
    let date = local.date();
    let day = format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day());
    let weekday = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
    let minute =
        u32::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
    Ok(hours.open_at(&day, weekday, minute))
}

#[cfg(test)]
mod tests {
    use protocol::routing::Span;

    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn hours_follow_the_zone_across_daylight_saving() {
        let mut hours = Hours {
            time_zone: "Europe/Paris".into(),
            ..Hours::default()
        };
        for day in 0..5 {
            *hours.weekly.day_mut(day) = vec![Span {
                from: "09:00".into(),
                to: "17:00".into(),
            }];
        }
        hours.holidays = vec!["2026-12-25".into()];
        // Winter (UTC+1): 08:30 UTC is 09:30 in Paris.
        assert!(open_at(&hours, ms("2026-12-01T08:30:00Z")).unwrap());
        assert!(!open_at(&hours, ms("2026-12-01T07:30:00Z")).unwrap());
        // Summer (UTC+2): 07:30 UTC is 09:30 in Paris; 15:30 UTC is 17:30, closed.
        assert!(open_at(&hours, ms("2026-07-01T07:30:00Z")).unwrap());
        assert!(!open_at(&hours, ms("2026-07-01T15:30:00Z")).unwrap());
        // The Monday after the clocks went back (2026-10-25): 08:00 UTC is 09:00.
        assert!(open_at(&hours, ms("2026-10-26T08:00:00Z")).unwrap());
        assert!(!open_at(&hours, ms("2026-10-26T07:59:00Z")).unwrap());
        // A holiday, and a Saturday.
        assert!(!open_at(&hours, ms("2026-12-25T10:00:00Z")).unwrap());
        assert!(!open_at(&hours, ms("2026-11-28T10:00:00Z")).unwrap());
        hours.time_zone = "Mars/Olympus".into();
        assert!(
            open_at(&hours, 0)
                .unwrap_err()
                .to_string()
                .contains("not a time zone")
        );
    }
}
