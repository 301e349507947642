//! Admin: reports. The numbers come from `backend::reports`; the charts come drawn,
//! as SVG text, so the browser runs no chart code.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A median and a 90th percentile, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SpreadView {
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SummaryView {
    pub created: i64,
    pub taken: i64,
    pub handed_back: i64,
    pub closed: i64,
    pub abandoned: i64,
    pub wait: SpreadView,
    pub first_response: SpreadView,
    pub resolution: SpreadView,
    pub messages_per_ticket: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRowView {
    pub name: String,
    pub handled: i64,
    pub first_response_median_s: Option<f64>,
    pub resolution_median_s: Option<f64>,
    pub available_s: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayView {
    pub day: String,
    pub created: i64,
    pub wait_median_s: Option<f64>,
    pub first_response_median_s: Option<f64>,
}

/// One bot's or team's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub name: String,
    pub summary: SummaryView,
}

/// The whole report as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    /// The days covered (the defaults filled in: the last seven days).
    pub from: String,
    pub to: String,
    pub summary: SummaryView,
    pub agents: Vec<AgentRowView>,
    /// Per bot, and per team.
    pub bots: Vec<GroupView>,
    pub teams: Vec<GroupView>,
    pub daily: Vec<DayView>,
    /// `[weekday][hour]`, Monday first.
    pub by_hour: Vec<Vec<i64>>,
    /// Drawn on the server, escaped there.
    pub volume_svg: String,
    pub trend_svg: String,
    pub heatmap_svg: String,
}

/// What the filters offer: (id, name) of connections and teams.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportOptions {
    pub connections: Vec<(i64, String)>,
    pub teams: Vec<(i64, String)>,
}

#[cfg(feature = "ssr")]
fn spread(s: backend::reports::Spread) -> SpreadView {
    SpreadView {
        median_s: s.median_s,
        p90_s: s.p90_s,
    }
}

#[cfg(feature = "ssr")]
fn summary_view(s: &backend::reports::Summary) -> SummaryView {
    SummaryView {
        created: s.created,
        taken: s.taken,
        handed_back: s.handed_back,
        closed: s.closed,
        abandoned: s.abandoned,
        wait: spread(s.wait),
        first_response: spread(s.first_response),
        resolution: spread(s.resolution),
        messages_per_ticket: s.messages_per_ticket,
    }
}

#[cfg(feature = "ssr")]
fn group_views(groups: &[backend::reports::Group]) -> Vec<GroupView> {
    groups
        .iter()
        .map(|g| GroupView {
            name: g.name.clone(),
            summary: summary_view(&g.summary),
        })
        .collect()
}

/// `connection` and `team` are ids, or empty for all.
#[server(endpoint = "admin/reports")]
pub async fn report(
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] tz: String,
    #[server(default)] connection: String,
    #[server(default)] team: String,
) -> Result<ReportView, AppError> {
    use backend::reports::{self, charts};
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let id = |raw: &str, what: &str| -> Result<Option<i64>, AppError> {
        match raw.trim() {
            "" => Ok(None),
            n => n
                .parse()
                .map(Some)
                .map_err(|_| AppError::Invalid(format!("{n:?} is not a {what}"))),
        }
    };
    let query = reports::Query {
        from,
        to,
        tz,
        connection: id(&connection, "connection")?,
        team: id(&team, "team")?,
    };
    let r = reports::report(&*services.store, &query).await?;
    Ok(ReportView {
        from: r.from.clone(),
        to: r.to.clone(),
        summary: summary_view(&r.summary),
        bots: group_views(&r.breakdown.connections),
        teams: group_views(&r.breakdown.teams),
        agents: r
            .agents
            .iter()
            .map(|a| AgentRowView {
                name: a.name.clone(),
                handled: a.handled,
                first_response_median_s: a.first_response_median_s,
                resolution_median_s: a.resolution_median_s,
                available_s: a.available_s,
            })
            .collect(),
        daily: r
            .shape
            .daily
            .iter()
            .map(|d| DayView {
                day: d.day.clone(),
                created: d.created,
                wait_median_s: d.wait_median_s,
                first_response_median_s: d.first_response_median_s,
            })
            .collect(),
        volume_svg: charts::volume(&r.shape.daily),
        trend_svg: charts::trend(&r.shape.daily),
        heatmap_svg: charts::heatmap(&r.shape.by_hour),
        by_hour: r.shape.by_hour,
    })
}

#[server(endpoint = "admin/reports/choices")]
pub async fn report_choices() -> Result<ReportOptions, AppError> {
    super::ssr::admin().await?;
    let services = super::ssr::services()?;
    Ok(ReportOptions {
        connections: backend::connections::list(&*services.store)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect(),
        teams: backend::routing::teams::list(&*services.store)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
    })
}
