//! Reports for team leads: what happened to the conversations that arrived in a
//! period, per connection or team, and per agent; with the data behind the charts.
//!
//! Everything is computed from what is stored with each ticket (when it arrived,
//! was first taken, first answered and closed, and how many messages it had) and
//! from the availability log, so any past period can be reported after the fact.
//! Days and hours are those of the time zone asked for: a period runs from the
//! start of its first day to the end of its last, in that zone, so a day with a
//! daylight-saving change has 23 or 25 hours, as on the wall clock.
//!
//! Durations are in seconds. The median is the middle value (the mean of the two
//! middle ones for an even count); p90 is the nearest rank (the smallest value at
//! least 90% of the values do not exceed).

pub mod availability;
pub mod charts;

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use protocol::ticket::{ClosedReason, Status};
use serde::Serialize;
use store::Store;

use crate::{Error, Result};

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;

/// What a report is about, as people and programs ask for it.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `YYYY-MM-DD`, the first day; empty: six days before `to`.
    pub from: String,
    /// `YYYY-MM-DD`, the last day (included); empty: today.
    pub to: String,
    /// An IANA time zone; UTC when empty.
    pub tz: String,
    pub connection: Option<i64>,
    pub team: Option<i64>,
}

/// A query checked and placed on the clock.
#[derive(Debug, Clone)]
pub struct Period {
    pub zone: TimeZone,
    pub days: Vec<Date>,
    /// UTC milliseconds: the start of the first day, the end of the last.
    pub start: i64,
    pub end: i64,
    pub connection: Option<i64>,
    pub team: Option<i64>,
}

fn day(raw: &str, which: &str) -> Result<Date> {
    raw.trim().parse::<Date>().map_err(|_| {
        Error::invalid(format!(
            "{which} must be a day written YYYY-MM-DD, not {:?}",
            raw.trim()
        ))
    })
}

fn start_of(date: Date, zone: &TimeZone) -> Result<i64> {
    date.to_zoned(zone.clone())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| Error::invalid(format!("{date} has no start in that time zone: {e}")))
}

impl Query {
    pub fn period(&self) -> Result<Period> {
        let zone = if self.tz.trim().is_empty() {
            TimeZone::UTC
        } else {
            crate::routing::hours::zone(&self.tz)?
        };
        let to = if self.to.trim().is_empty() {
            Timestamp::now().to_zoned(zone.clone()).date()
        } else {
            day(&self.to, "to")?
        };
        let from = if self.from.trim().is_empty() {
            to.checked_sub(6.days())
                .map_err(|_| Error::invalid("from is too far in the past"))?
        } else {
            day(&self.from, "from")?
        };
        if to < from {
            return Err(Error::invalid("to must not be before from"));
        }
        let length = i64::from((to - from).get_days()) + 1;
        if length > MAX_DAYS {
            return Err(Error::invalid(format!(
                "a report covers at most {MAX_DAYS} days, not {length}"
            )));
        }
        let days: Vec<Date> = (0..length)
            .filter_map(|i| from.checked_add(i.days()).ok())
            .collect();
        let after = to
            .checked_add(1.day())
            .map_err(|_| Error::invalid("to is too far in the future"))?;
        Ok(Period {
            start: start_of(from, &zone)?,
            end: start_of(after, &zone)?,
            zone,
            days,
            connection: self.connection,
            team: self.team,
        })
    }
}

/// What a report needs of one ticket.
pub type Facts = store::reports::FactRow;

/// The tickets that arrived in the period, on the connection or team asked for.
pub async fn facts(tx: &mut dyn store::Tx, p: &Period) -> Result<Vec<Facts>> {
    Ok(tx
        .report_facts(p.start, p.end, p.connection, p.team)
        .await?)
}

/// The middle and the 90th percentile of some durations, in seconds; `None` without
/// any.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Spread {
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

/// Durations in milliseconds, to a [`Spread`] in seconds.
pub fn spread(mut ms: Vec<i64>) -> Spread {
    ms.sort_unstable();
    let n = ms.len();
    if n == 0 {
        return Spread {
            median_s: None,
            p90_s: None,
        };
    }
    let median = if n % 2 == 1 {
        ms[n / 2] as f64
    } else {
        (ms[n / 2 - 1] + ms[n / 2]) as f64 / 2.0
    };
    // Nearest rank: ceil(0.9 n), counted from 1.
    let rank = (n * 9).div_ceil(10).max(1);
    Spread {
        median_s: Some(median / 1000.0),
        p90_s: Some(ms[rank - 1] as f64 / 1000.0),
    }
}

fn between(from: i64, to: Option<i64>) -> Option<i64> {
    to.map(|t| (t - from).max(0))
}

/// The customer left before an agent answered: closed by their side, with no agent
/// message.
fn abandoned(t: &Facts) -> bool {
    t.status == Status::Closed
        && t.first_response_at.is_none()
        && matches!(
            t.closed_reason,
            Some(ClosedReason::CustomerEnded | ClosedReason::BotClosed | ClosedReason::Abandoned)
        )
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub created: i64,
    /// Held by someone at some point (taken, transferred, assigned automatically).
    pub taken: i64,
    pub handed_back: i64,
    pub closed: i64,
    /// The customer left before an agent answered.
    pub abandoned: i64,
    /// Arrival to first taken.
    pub wait: Spread,
    /// Arrival to the first agent message.
    pub first_response: Spread,
    /// Arrival to closed.
    pub resolution: Spread,
    /// Customer and agent messages per ticket, on average; `None` without tickets.
    pub messages_per_ticket: Option<f64>,
}

pub fn summary(tickets: &[Facts]) -> Summary {
    let count = |f: &dyn Fn(&Facts) -> bool| tickets.iter().filter(|t| f(t)).count() as i64;
    let created = tickets.len() as i64;
    Summary {
        created,
        taken: count(&|t| t.taken_at.is_some()),
        handed_back: count(&|t| t.closed_reason == Some(ClosedReason::HandedBack)),
        closed: count(&|t| t.status == Status::Closed),
        abandoned: count(&abandoned),
        wait: spread(
            tickets
                .iter()
                .filter_map(|t| between(t.created_at, t.taken_at))
                .collect(),
        ),
        first_response: spread(
            tickets
                .iter()
                .filter_map(|t| between(t.created_at, t.first_response_at))
                .collect(),
        ),
        resolution: spread(
            tickets
                .iter()
                .filter(|t| t.status == Status::Closed)
                .filter_map(|t| between(t.created_at, t.closed_at))
                .collect(),
        ),
        messages_per_ticket: (created > 0).then(|| {
            let total: i64 = tickets.iter().map(|t| t.message_count).sum();
            (total as f64 / created as f64 * 10.0).round() / 10.0
        }),
    }
}

/// One agent's part.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentReport {
    /// `agt_…`.
    pub id: String,
    pub name: String,
    /// Tickets of the period they held last.
    pub handled: i64,
    pub first_response_median_s: Option<f64>,
    pub resolution_median_s: Option<f64>,
    /// Seconds with a tab open and *Available* chosen, within the period.
    pub available_s: i64,
}

pub async fn agents(
    tx: &mut dyn store::Tx,
    p: &Period,
    tickets: &[Facts],
) -> Result<Vec<AgentReport>> {
    let mut by_agent: BTreeMap<i64, Vec<&Facts>> = BTreeMap::new();
    for t in tickets {
        if let Some(agent) = t.assignee_id {
            by_agent.entry(agent).or_default().push(t);
        }
    }
    let available = availability::seconds(tx, p.start, p.end).await?;
    let people = tx.report_people().await?;
    Ok(people
        .into_iter()
        .filter_map(|u| {
            let held = by_agent.remove(&u.id).unwrap_or_default();
            let seconds = available.get(&u.id).copied().unwrap_or(0);
            if held.is_empty() && seconds == 0 && !u.active {
                return None;
            }
            Some(AgentReport {
                id: u.public_id,
                name: u.name,
                handled: held.len() as i64,
                first_response_median_s: spread(
                    held.iter()
                        .filter_map(|t| between(t.created_at, t.first_response_at))
                        .collect(),
                )
                .median_s,
                resolution_median_s: spread(
                    held.iter()
                        .filter(|t| t.status == Status::Closed)
                        .filter_map(|t| between(t.created_at, t.closed_at))
                        .collect(),
                )
                .median_s,
                available_s: seconds,
            })
        })
        .collect())
}

/// One bot's or one team's part of the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub summary: Summary,
}

/// The summary per bot and per team, side by side. A team's tickets are those of the
/// bots it serves, so a bot served by two teams counts in both.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// Every bot the report covers, by name (a bot without tickets shows zeros).
    pub connections: Vec<Group>,
    /// Every team the report covers, by name.
    pub teams: Vec<Group>,
}

pub async fn breakdown(tx: &mut dyn store::Tx, p: &Period, tickets: &[Facts]) -> Result<Breakdown> {
    let bots = tx.report_bots().await?;
    let teams = tx.report_teams().await?;
    let served = tx.report_served().await?;
    let of_team = |team: i64| -> Vec<i64> {
        served
            .iter()
            .filter(|&&(t, _)| t == team)
            .map(|&(_, connection)| connection)
            .collect()
    };
    // The bots in scope: the one asked for, or the asked team's, or all.
    let in_scope: Option<Vec<i64>> = match (p.connection, p.team) {
        (Some(c), _) => Some(vec![c]),
        (None, Some(t)) => Some(of_team(t)),
        (None, None) => None,
    };
    let group = |id: i64, name: String, bots: &[i64]| {
        let theirs: Vec<Facts> = tickets
            .iter()
            .filter(|t| bots.contains(&t.connection_id))
            .cloned()
            .collect();
        Group {
            id,
            name,
            summary: summary(&theirs),
        }
    };
    Ok(Breakdown {
        connections: bots
            .into_iter()
            .filter(|(id, _)| in_scope.as_ref().is_none_or(|s| s.contains(id)))
            .map(|(id, name)| group(id, name, &[id]))
            .collect(),
        teams: teams
            .into_iter()
            .filter(|&(id, _)| p.team.is_none_or(|asked| asked == id))
            .map(|(id, name)| group(id, name, &of_team(id)))
            .collect(),
    })
}

/// One day of the period, in its time zone.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Daily {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub created: i64,
    pub wait_median_s: Option<f64>,
    pub first_response_median_s: Option<f64>,
}

/// Volume and trends per day, and arrivals per hour of the week.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Shape {
    pub daily: Vec<Daily>,
    /// `[weekday][hour]`: Monday first, hours 0 to 23, in the time zone.
    pub by_hour: Vec<Vec<i64>>,
}

pub fn shape(p: &Period, tickets: &[Facts]) -> Shape {
    let mut per_day: BTreeMap<Date, Vec<&Facts>> = BTreeMap::new();
    let mut by_hour = vec![vec![0i64; 24]; 7];
    for t in tickets {
        let Ok(at) = Timestamp::from_millisecond(t.created_at) else {
            continue;
        };
        let local = at.to_zoned(p.zone.clone());
        per_day.entry(local.date()).or_default().push(t);
        let weekday = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
        let hour = usize::try_from(local.hour()).unwrap_or(0);
        if let Some(cell) = by_hour.get_mut(weekday).and_then(|h| h.get_mut(hour)) {
            *cell += 1;
        }
    }
    let daily = p
        .days
        .iter()
        .map(|d| {
            let those = per_day.get(d).map(Vec::as_slice).unwrap_or_default();
            Daily {
                day: d.to_string(),
                created: those.len() as i64,
                wait_median_s: spread(
                    those
                        .iter()
                        .filter_map(|t| between(t.created_at, t.taken_at))
                        .collect(),
                )
                .median_s,
                first_response_median_s: spread(
                    those
                        .iter()
                        .filter_map(|t| between(t.created_at, t.first_response_at))
                        .collect(),
                )
                .median_s,
            }
        })
        .collect();
    Shape { daily, by_hour }
}

/// The whole report, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The days covered, `YYYY-MM-DD` (the defaults filled in).
    pub from: String,
    pub to: String,
    pub summary: Summary,
    pub agents: Vec<AgentReport>,
    pub shape: Shape,
    pub breakdown: Breakdown,
}

pub async fn report(store: &dyn Store, q: &Query) -> Result<Report> {
    let p = q.period()?;
    // One snapshot: the tickets, the people and the groups agree.
    let mut tx = store.read().await?;
    let tickets = facts(&mut *tx, &p).await?;
    Ok(Report {
        from: p.days.first().map(Date::to_string).unwrap_or_default(),
        to: p.days.last().map(Date::to_string).unwrap_or_default(),
        summary: summary(&tickets),
        agents: agents(&mut *tx, &p, &tickets).await?,
        shape: shape(&p, &tickets),
        breakdown: breakdown(&mut *tx, &p, &tickets).await?,
    })
}

/// A duration for a CSV cell or a table: seconds with one decimal, or empty.
pub fn seconds_cell(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.1}")).unwrap_or_default()
}

const SUMMARY_HEAD: [&str; 12] = [
    "created",
    "taken",
    "handed_back",
    "closed",
    "abandoned",
    "wait_median_s",
    "wait_p90_s",
    "first_response_median_s",
    "first_response_p90_s",
    "resolution_median_s",
    "resolution_p90_s",
    "messages_per_ticket",
];

fn summary_cells(s: &Summary) -> [String; 12] {
    [
        s.created.to_string(),
        s.taken.to_string(),
        s.handed_back.to_string(),
        s.closed.to_string(),
        s.abandoned.to_string(),
        seconds_cell(s.wait.median_s),
        seconds_cell(s.wait.p90_s),
        seconds_cell(s.first_response.median_s),
        seconds_cell(s.first_response.p90_s),
        seconds_cell(s.resolution.median_s),
        seconds_cell(s.resolution.p90_s),
        s.messages_per_ticket
            .map(|m| format!("{m:.1}"))
            .unwrap_or_default(),
    ]
}

/// The summary as CSV: a header and one row.
pub fn summary_csv(s: &Summary) -> String {
    format!(
        "{}{}",
        crate::csv::line(&SUMMARY_HEAD),
        crate::csv::line(&summary_cells(s))
    )
}

/// Per bot, then per team: `kind` is `bot` or `team`, then the summary's columns.
pub fn groups_csv(b: &Breakdown) -> String {
    let mut head = vec!["kind", "id", "name"];
    head.extend(SUMMARY_HEAD);
    let mut out = crate::csv::line(&head);
    let rows = b
        .connections
        .iter()
        .map(|g| ("bot", g))
        .chain(b.teams.iter().map(|g| ("team", g)));
    for (kind, g) in rows {
        let mut row = vec![kind.to_owned(), g.id.to_string(), g.name.clone()];
        row.extend(summary_cells(&g.summary));
        out.push_str(&crate::csv::line(&row));
    }
    out
}

/// Arrivals per hour of the week: a row per weekday, Monday first, a column per hour.
pub fn hours_csv(by_hour: &[Vec<i64>]) -> String {
    let mut head = vec!["weekday".to_owned()];
    head.extend((0..24).map(|h| format!("{h:02}")));
    let mut out = crate::csv::line(&head);
    for (day, hours) in protocol::routing::WEEKDAY_NAMES.iter().zip(by_hour) {
        let mut row = vec![(*day).to_owned()];
        row.extend(hours.iter().map(i64::to_string));
        out.push_str(&crate::csv::line(&row));
    }
    out
}

pub fn agents_csv(rows: &[AgentReport]) -> String {
    let mut out = crate::csv::line(&[
        "agent_id",
        "name",
        "handled",
        "first_response_median_s",
        "resolution_median_s",
        "available_s",
    ]);
    for r in rows {
        out.push_str(&crate::csv::line(&[
            r.id.clone(),
            r.name.clone(),
            r.handled.to_string(),
            seconds_cell(r.first_response_median_s),
            seconds_cell(r.resolution_median_s),
            r.available_s.to_string(),
        ]));
    }
    out
}

pub fn daily_csv(rows: &[Daily]) -> String {
    let mut out = crate::csv::line(&["day", "created", "wait_median_s", "first_response_median_s"]);
    for r in rows {
        out.push_str(&crate::csv::line(&[
            r.day.clone(),
            r.created.to_string(),
            seconds_cell(r.wait_median_s),
            seconds_cell(r.first_response_median_s),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_p90_by_nearest_rank() {
        assert_eq!(spread(vec![]).median_s, None);
        let s = spread(vec![4000, 1000, 3000, 2000]);
        assert_eq!((s.median_s, s.p90_s), (Some(2.5), Some(4.0)));
        let s = spread((1..=10).map(|i| i * 1000).collect());
        assert_eq!((s.median_s, s.p90_s), (Some(5.5), Some(9.0)));
        let s = spread(vec![7000]);
        assert_eq!((s.median_s, s.p90_s), (Some(7.0), Some(7.0)));
    }

    #[test]
    fn a_period_follows_the_wall_clock_across_daylight_saving() {
        let q = Query {
            from: "2026-03-29".into(),
            to: "2026-03-29".into(),
            tz: "Europe/Paris".into(),
            ..Query::default()
        };
        let p = q.period().unwrap();
        // The clocks go forward that night: the day has 23 hours.
        assert_eq!(p.end - p.start, 23 * 3600 * 1000);
        assert_eq!(p.days.len(), 1);
        let bad = |from: &str, to: &str, tz: &str| {
            Query {
                from: from.into(),
                to: to.into(),
                tz: tz.into(),
                ..Query::default()
            }
            .period()
            .unwrap_err()
            .to_string()
        };
        assert!(bad("2026-03-02", "2026-03-01", "").contains("before"));
        assert!(bad("2026-13-01", "2026-03-01", "").contains("YYYY-MM-DD"));
        assert!(bad("2025-01-01", "2026-03-01", "").contains("at most 366"));
        assert!(bad("2026-03-01", "2026-03-01", "Nowhere/Else").contains("time zone"));
    }
}
