//! Reports (admins): what happened to the conversations that arrived in a period,
//! per bot or team, and per agent, with charts drawn on the server and the same
//! numbers in tables. The filter lives in the URL, so a report can be bookmarked.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::reports::{
    GroupView, ReportOptions, ReportView, SpreadView, report, report_choices,
};
use crate::components::guard::Guard;
use crate::components::session::Session;
use crate::error::AppError;

/// from, to, tz, connection, team, as the URL says.
type Filter = (String, String, String, String, String);

fn filter_of(query: Memo<ParamsMap>) -> Filter {
    let q = query.read();
    let get = |k: &str| q.get(k).unwrap_or_default();
    (
        get("from"),
        get("to"),
        get("tz"),
        get("connection"),
        get("team"),
    )
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    // Created outside the guard (see `Guard`).
    let session = Session::load();
    let query = use_query_map();
    let data = Resource::new(
        move || filter_of(query),
        move |(from, to, tz, connection, team)| {
            session.then(report(from, to, tz, connection, team))
        },
    );
    let choices = Resource::new(|| (), move |()| session.then(report_choices()));
    view! { <Guard session admin=true page=move |_| view! { <Reports data choices /> } /> }
}

/// A duration as people read it: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`.
pub fn duration(seconds: Option<f64>) -> String {
    let Some(s) = seconds else {
        return "–".to_owned();
    };
    let s = s.round() as i64;
    match s {
        ..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

fn csv_link(table: &str, f: &Filter) -> String {
    let (from, to, tz, connection, team) = f;
    format!(
        "/api/v1/reports/{table}.csv?from={from}&to={to}&tz={}{}{}",
        crate::components::encode_query(if tz.is_empty() { "UTC" } else { tz }),
        if connection.is_empty() {
            String::new()
        } else {
            format!("&connection={connection}")
        },
        if team.is_empty() {
            String::new()
        } else {
            format!("&team={team}")
        },
    )
}

#[component]
fn Reports(
    data: Resource<Result<ReportView, AppError>>,
    choices: Resource<Result<ReportOptions, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    let filter = move || filter_of(query);
    view! {
        <section class="card" data-testid="reports">
            <h1>"Reports"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(r) => {
                        // The days shown: the defaults filled in (the last seven).
                        let mut f = filter();
                        f.0 = r.from.clone();
                        f.1 = r.to.clone();
                        view! { <FilterForm f=f.clone() choices /> <Shown r f /> }.into_any()
                    }
                    Err(e) => view! {
                        <FilterForm f=filter() choices />
                        <p class="error" role="alert">{e.to_string()}</p>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn FilterForm(f: Filter, choices: Resource<Result<ReportOptions, AppError>>) -> impl IntoView {
    view! {
            <Form method="GET" action="" attr:class="form inline-form" attr:data-testid="report-filter">
            <label>"From" <input type="date" name="from" value=f.0.clone() /></label>
            <label>"To" <input type="date" name="to" value=f.1.clone() /></label>
            <label>
                "Time zone"
                <input type="text" name="tz" placeholder="UTC" value=f.2.clone() />
            </label>
            <Transition fallback=|| ()>
                {move || choices.get().and_then(Result::ok).map(|c| {
                    let (connection, team) = (f.3.clone(), f.4.clone());
                    view! {
                        <label>
                            "Bot"
                            <select name="connection">
                                <option value="">"All bots"</option>
                                {c.connections.into_iter().map(|(id, name)| {
                                    let selected = connection == id.to_string();
                                    view! { <option value=id.to_string() selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>
                            "Team"
                            <select name="team">
                                <option value="">"All teams"</option>
                                {c.teams.into_iter().map(|(id, name)| {
                                    let selected = team == id.to_string();
                                    view! { <option value=id.to_string() selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
            </Transition>
            <button class="button" type="submit">"Show"</button>
        </Form>
    }
}

fn spread_cells(s: SpreadView) -> impl IntoView {
    view! { <td>{duration(s.median_s)}</td><td>{duration(s.p90_s)}</td> }
}

#[component]
fn Shown(r: ReportView, f: Filter) -> impl IntoView {
    let s = r.summary.clone();
    let counts = [
        ("Created", s.created),
        ("Taken", s.taken),
        ("Closed", s.closed),
        ("Handed back", s.handed_back),
        ("Abandoned", s.abandoned),
    ];
    let period = format!("{} to {}", r.from, r.to);
    view! {
        <p class="muted" data-testid="report-period">{period}</p>
        <div class="stats" data-testid="report-counts">
            {counts.into_iter().map(|(name, n)| view! {
                <div class="stat"><span class="stat-value">{n}</span><span class="stat-name">{name}</span></div>
            }).collect_view()}
            <div class="stat">
                <span class="stat-value">{s.messages_per_ticket.map(|m| format!("{m:.1}")).unwrap_or_else(|| "–".into())}</span>
                <span class="stat-name">"Messages per conversation"</span>
            </div>
        </div>
        <table class="table" data-testid="report-times">
            <thead><tr><th></th><th>"Median"</th><th>"90% within"</th></tr></thead>
            <tbody>
                <tr><th scope="row">"Wait (arrival to taken)"</th>{spread_cells(s.wait)}</tr>
                <tr><th scope="row">"First response"</th>{spread_cells(s.first_response)}</tr>
                <tr><th scope="row">"Resolution (arrival to closed)"</th>{spread_cells(s.resolution)}</tr>
            </tbody>
        </table>
        <p><a href=csv_link("summary", &f) download="">"Download the summary (CSV)"</a></p>

        <h2>"By bot and team"</h2>
        <GroupTable caption="Bots" testid="report-bots" groups=r.bots.clone() />
        {(!r.teams.is_empty()).then(|| view! {
            <GroupTable caption="Teams" testid="report-teams" groups=r.teams.clone() />
        })}
        <p><a href=csv_link("groups", &f) download="">"Download per bot and team (CSV)"</a></p>

        <h2>"Conversations per day"</h2>
        <div class="chart-box" inner_html=r.volume_svg.clone()></div>
        <h2>"Median wait and first response per day"</h2>
        <p class="legend"><span class="key key-wait"></span>"Wait" <span class="key key-first"></span>"First response"</p>
        <div class="chart-box" inner_html=r.trend_svg.clone()></div>
        <details>
            <summary>"Per day, as a table"</summary>
            <table class="table" data-testid="report-daily">
                <thead><tr><th>"Day"</th><th>"Created"</th><th>"Median wait"</th><th>"Median first response"</th></tr></thead>
                <tbody>
                    {r.daily.iter().map(|d| view! {
                        <tr>
                            <td>{d.day.clone()}</td>
                            <td>{d.created}</td>
                            <td>{duration(d.wait_median_s)}</td>
                            <td>{duration(d.first_response_median_s)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <a href=csv_link("daily", &f) download="">"Download per day (CSV)"</a>
        </details>

        <h2>"By hour of the week"</h2>
        <div class="chart-box" inner_html=r.heatmap_svg.clone()></div>
        <details>
            <summary>"By hour, as a table"</summary>
            <table class="table heat-table">
                <thead>
                    <tr><th></th>{(0..24).map(|h| view! { <th>{format!("{h:02}")}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {r.by_hour.iter().zip(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]).map(|(hours, day)| view! {
                        <tr><th scope="row">{day}</th>{hours.iter().map(|n| view! { <td>{*n}</td> }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
            <a href=csv_link("hours", &f) download="">"Download by hour (CSV)"</a>
        </details>

        <h2>"Agents"</h2>
        <table class="table" data-testid="report-agents">
            <thead>
                <tr><th>"Agent"</th><th>"Handled"</th><th>"Median first response"</th><th>"Median resolution"</th><th>"Available"</th></tr>
            </thead>
            <tbody>
                {r.agents.iter().map(|a| view! {
                    <tr>
                        <td>{a.name.clone()}</td>
                        <td>{a.handled}</td>
                        <td>{duration(a.first_response_median_s)}</td>
                        <td>{duration(a.resolution_median_s)}</td>
                        <td>{duration(Some(a.available_s as f64))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p><a href=csv_link("agents", &f) download="">"Download per agent (CSV)"</a></p>
    }
}

/// A summary per bot or per team, a row each (on a phone, tables scroll sideways in
/// their own box, not the page).
#[component]
fn GroupTable(
    caption: &'static str,
    testid: &'static str,
    groups: Vec<GroupView>,
) -> impl IntoView {
    view! {
            <table class="table" data-testid=testid>
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{caption.trim_end_matches('s').to_owned()}</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Taken"</th>
                        <th scope="col">"Closed"</th>
                        <th scope="col">"Handed back"</th>
                        <th scope="col">"Abandoned"</th>
                        <th scope="col">"Median wait"</th>
                        <th scope="col">"Median first response"</th>
                        <th scope="col">"Median resolution"</th>
                    </tr>
                </thead>
                <tbody>
                    {groups.into_iter().map(|g| {
                        let s = g.summary;
                        view! {
                            <tr>
                                <th scope="row">{g.name}</th>
                                <td>{s.created}</td>
                                <td>{s.taken}</td>
                                <td>{s.closed}</td>
                                <td>{s.handed_back}</td>
                                <td>{s.abandoned}</td>
                                <td>{duration(s.wait.median_s)}</td>
                                <td>{duration(s.first_response.median_s)}</td>
                                <td>{duration(s.resolution.median_s)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(44.6)), "45 s");
        assert_eq!(duration(Some(125.0)), "2 min");
        assert_eq!(duration(Some(3.0 * 3600.0 + 300.0)), "3 h 05 min");
        assert_eq!(duration(Some(2.0 * 86400.0 + 4.0 * 3600.0)), "2 d 4 h");
    }
}
