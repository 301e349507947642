//! Admin: routing. Teams say which agents serve which connections (a connection
//! without a team is served by everyone); each connection assigns new tickets by
//! hand or automatically, to available agents with room below their capacity.
//! Every change is audited.

use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::api::routing::{
    Assignment, ConnectionRouting, DeleteTeam, RoutingData, SaveTeam, SetCapacity,
    SetConnectionRouting, SetHours, WhenUnavailable, routing,
};
use crate::components::guard::Guard;
use crate::components::session::{Session, on_signed_out};
use crate::error::AppError;

#[derive(Clone, Copy)]
struct Loaded {
    data: Resource<Result<RoutingData, AppError>>,
    save_team: ServerAction<SaveTeam>,
    delete_team: ServerAction<DeleteTeam>,
    set_routing: ServerAction<SetConnectionRouting>,
    set_capacity: ServerAction<SetCapacity>,
    set_hours: ServerAction<SetHours>,
}

#[component]
pub fn RoutingPage() -> impl IntoView {
    // Created outside the guard (see `Guard`).
    let session = Session::load();
    let save_team = ServerAction::<SaveTeam>::new();
    let delete_team = ServerAction::<DeleteTeam>::new();
    let set_routing = ServerAction::<SetConnectionRouting>::new();
    let set_capacity = ServerAction::<SetCapacity>::new();
    let set_hours = ServerAction::<SetHours>::new();
    let data = Resource::new(
        move || {
            save_team.version().get()
                + delete_team.version().get()
                + set_routing.version().get()
                + set_capacity.version().get()
                + set_hours.version().get()
        },
        move |_| session.then(routing()),
    );
    let loaded = Loaded {
        data,
        save_team,
        delete_team,
        set_routing,
        set_capacity,
        set_hours,
    };
    view! { <Guard session admin=true page=move |_| view! { <Routing loaded /> } /> }
}

#[component]
fn Routing(loaded: Loaded) -> impl IntoView {
    let Loaded {
        data,
        save_team,
        delete_team,
        set_routing,
        set_capacity,
        set_hours,
    } = loaded;
    on_signed_out(move || save_team.value().get());
    on_signed_out(move || delete_team.value().get());
    on_signed_out(move || set_routing.value().get());
    on_signed_out(move || set_capacity.value().get());
    on_signed_out(move || set_hours.value().get());
    let error = move || {
        crate::components::first_error([
            save_team.value().get().and_then(Result::err),
            delete_team.value().get().and_then(Result::err),
            set_routing.value().get().and_then(Result::err),
            set_capacity.value().get().and_then(Result::err),
            set_hours.value().get().and_then(Result::err),
        ])
    };
    view! {
        <section class="card" data-testid="routing-admin">
            <h1>"Routing"</h1>
            <p class="muted">
                "Teams decide who serves which bot: a bot that no team serves is served by everyone. "
                "With automatic assignment, a new conversation goes to an available agent of its teams "
                "who has room, the least busy first; otherwise it waits in the queue until someone takes it."
            </p>
            {error}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(d) => view! {
                        <Teams data=d.clone() save=save_team delete=delete_team />
                        <Connections data=d.clone() set=set_routing />
                        <HoursForms data=d.clone() set=set_hours />
                        <Capacities data=d set=set_capacity />
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn joined(ids: &BTreeSet<i64>) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

#[component]
fn Teams(
    data: RoutingData,
    save: ServerAction<SaveTeam>,
    delete: ServerAction<DeleteTeam>,
) -> impl IntoView {
    let editing = RwSignal::new(None::<i64>);
    let name = RwSignal::new(String::new());
    let agents = RwSignal::new(BTreeSet::<i64>::new());
    let connections = RwSignal::new(BTreeSet::<i64>::new());
    let clear = move || {
        editing.set(None);
        name.set(String::new());
        agents.set(BTreeSet::new());
        connections.set(BTreeSet::new());
    };
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            clear();
        }
    });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        save.dispatch(SaveTeam {
            id: editing.get_untracked(),
            name: name.get_untracked(),
            agents: agents.with_untracked(joined),
            connections: connections.with_untracked(joined),
        });
    };
    let rows = data.teams.clone();
    let everyone = data.agents.clone();
    let bots = data.connections.clone();
    view! {
        <h2>"Teams"</h2>
        {if rows.is_empty() {
            view! { <p class="muted">"No teams yet: every agent serves every bot."</p> }.into_any()
        } else {
            view! {
                <table class="table">
                    <thead><tr><th>"Team"</th><th>"Agents"</th><th>"Serves"</th><th></th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|t| {
                            let (id, n) = (t.id, t.name.clone());
                            let member_ids: BTreeSet<i64> = t.agents.iter().map(|a| a.0).collect();
                            let bot_ids: BTreeSet<i64> = t.connections.iter().map(|c| c.0).collect();
                            let members = t.agents.iter().map(|a| a.1.clone()).collect::<Vec<_>>().join(", ");
                            let served = t.connections.iter().map(|c| c.1.clone()).collect::<Vec<_>>().join(", ");
                            let asked = format!(
                                "Delete the team \u{201c}{}\u{201d}? Bots only it served are then served by everyone.",
                                t.name
                            );
                            view! {
                                <tr data-testid="team-row">
                                    <td>{t.name}</td>
                                    <td>{if members.is_empty() { "Nobody".to_owned() } else { members }}</td>
                                    <td>{if served.is_empty() { "No bot".to_owned() } else { served }}</td>
                                    <td class="row-actions">
                                        <button class="button secondary" type="button" on:click=move |_| {
                                            editing.set(Some(id));
                                            name.set(n.clone());
                                            agents.set(member_ids.clone());
                                            connections.set(bot_ids.clone());
                                        }>"Edit"</button>
                                        <button class="button secondary" type="button" on:click=move |_| {
                                            if crate::components::confirm(&asked) {
                                                delete.dispatch(DeleteTeam { id });
                                            }
                                        }>"Delete"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <form class="form" on:submit=submit data-testid="team-form">
            <label>
                "Team name"
                <input type="text" name="name" required maxlength=protocol::routing::MAX_TEAM_NAME.to_string()
                    placeholder="e.g. Billing" prop:value=move || name.get()
                    on:input=move |e| name.set(event_target_value(&e)) />
            </label>
            <Choices legend="Agents" testid="team-agents" chosen=agents
                options=everyone.into_iter().filter(|a| a.active).map(|a| (a.id, a.name)).collect() />
            <Choices legend="Serves these bots" testid="team-connections" chosen=connections
                options=bots.into_iter().map(|c| (c.id, c.name)).collect() />
            <div class="row-actions">
                <button class="button" type="submit" disabled=move || save.pending().get()>
                    {move || if editing.get().is_some() { "Save team" } else { "Add team" }}
                </button>
                <button class="button secondary" type="button" hidden=move || editing.get().is_none()
                    on:click=move |_| clear()>"Cancel"</button>
            </div>
        </form>
    }
}

/// Checkboxes for some (id, name) options, in columns; `chosen` holds the ids ticked.
#[component]
fn Choices(
    legend: &'static str,
    testid: &'static str,
    options: Vec<(i64, String)>,
    chosen: RwSignal<BTreeSet<i64>>,
) -> impl IntoView {
    view! {
        <fieldset class="choices" data-testid=testid>
            <legend>{legend}</legend>
            {options.into_iter().map(|(id, name)| view! {
                <label class="choice">
                    <input type="checkbox" prop:checked=move || chosen.with(|s| s.contains(&id))
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            chosen.update(|s| {
                                if on {
                                    s.insert(id);
                                } else {
                                    s.remove(&id);
                                }
                            });
                        } />
                    {name}
                </label>
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn Connections(data: RoutingData, set: ServerAction<SetConnectionRouting>) -> impl IntoView {
    view! {
        <h2>"Assignment"</h2>
        {if data.connections.is_empty() {
            view! { <p class="muted">"No bots are connected yet."</p> }.into_any()
        } else {
            view! {
                <table class="table">
                    <thead><tr><th>"Bot"</th><th>"New conversations"</th><th>"Default capacity"</th><th></th></tr></thead>
                    <tbody>
                        {data.connections.into_iter().map(|c| {
                            let id = c.id;
                            let mode = RwSignal::new(c.assignment.as_str().to_owned());
                            let capacity = RwSignal::new(c.default_capacity.to_string());
                            let label = format!("Capacity for {}", c.name);
                            view! {
                                <tr data-testid="routing-connection">
                                    <td>{c.name.clone()}</td>
                                    <td>
                                        <select aria-label=format!("Assignment for {}", c.name) data-testid="assignment"
                                            on:change=move |e| mode.set(event_target_value(&e))>
                                            <option value="manual" selected=c.assignment == Assignment::Manual>
                                                "Wait in the queue"
                                            </option>
                                            <option value="automatic" selected=c.assignment == Assignment::Automatic>
                                                "Assign automatically"
                                            </option>
                                        </select>
                                    </td>
                                    <td>
                                        <input type="number" min=protocol::routing::MIN_CAPACITY.to_string()
                                            max=protocol::routing::MAX_CAPACITY.to_string() aria-label=label
                                            data-testid="default-capacity" prop:value=move || capacity.get()
                                            on:input=move |e| capacity.set(event_target_value(&e)) />
                                    </td>
                                    <td>
                                        <button class="button secondary" type="button" data-testid="save-routing"
                                            on:click=move |_| {
                                                set.dispatch(SetConnectionRouting {
                                                    id,
                                                    assignment: mode.get_untracked(),
                                                    default_capacity: capacity.get_untracked(),
                                                });
                                            }>"Save"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
fn Capacities(data: RoutingData, set: ServerAction<SetCapacity>) -> impl IntoView {
    view! {
        <h2>"Capacity per agent"</h2>
        <p class="muted">
            "The most open conversations automatic assignment gives someone. Leave it blank for each bot's default. "
            "Agents can always take more by hand."
        </p>
        <table class="table">
            <thead><tr><th>"Agent"</th><th>"Open now"</th><th>"Capacity"</th><th></th></tr></thead>
            <tbody>
                {data.agents.into_iter().filter(|a| a.active).map(|a| {
                    let id = a.id;
                    let capacity = RwSignal::new(a.capacity.map(|c| c.to_string()).unwrap_or_default());
                    let label = format!("Capacity of {}", a.name);
                    view! {
                        <tr data-testid="agent-capacity">
                            <td>{a.name.clone()}</td>
                            <td>{a.open_tickets}</td>
                            <td>
                                <input type="number" min=protocol::routing::MIN_CAPACITY.to_string()
                                    max=protocol::routing::MAX_CAPACITY.to_string() placeholder="Default"
                                    aria-label=label prop:value=move || capacity.get()
                                    on:input=move |e| capacity.set(event_target_value(&e)) />
                            </td>
                            <td>
                                <button class="button secondary" type="button" on:click=move |_| {
                                    set.dispatch(SetCapacity { id, capacity: capacity.get_untracked() });
                                }>"Save"</button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn HoursForms(data: RoutingData, set: ServerAction<SetHours>) -> impl IntoView {
    view! {
        <h2>"Hours, and when nobody can take a conversation"</h2>
        <p class="muted">
            "Outside these hours, while nobody who serves the bot is available, or past the wait limit, "
            "a new conversation can wait in the queue, or the customer can be sent a message and handed back to the bot. "
            "Leave the time zone blank for always open."
        </p>
        {data.connections.into_iter().map(|c| view! { <HoursForm c set /> }).collect_view()}
    }
}

#[component]
fn HoursForm(c: ConnectionRouting, set: ServerAction<SetHours>) -> impl IntoView {
    let id = c.id;
    let time_zone = RwSignal::new(c.time_zone.clone());
    let days: Vec<RwSignal<String>> = c.days.iter().cloned().map(RwSignal::new).collect();
    let holidays = RwSignal::new(c.holidays.clone());
    let action = RwSignal::new(c.when_unavailable.as_str().to_owned());
    let message = RwSignal::new(c.unavailable_message.clone());
    let wait = RwSignal::new(
        c.wait_limit_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let position = RwSignal::new(c.queue_position_text.clone());
    let all_days = days.clone();
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        set.dispatch(SetHours {
            id,
            time_zone: time_zone.get_untracked(),
            days: all_days
                .iter()
                .map(|d| d.get_untracked())
                .collect::<Vec<_>>()
                .join("|"),
            holidays: holidays.get_untracked(),
            when_unavailable: action.get_untracked(),
            message: message.get_untracked(),
            wait_limit: wait.get_untracked(),
            queue_position_text: position.get_untracked(),
        });
    };
    let summary = if c.time_zone.is_empty() {
        format!("{}: always open", c.name)
    } else {
        format!("{}: hours in {}", c.name, c.time_zone)
    };
    let hand_back = c.when_unavailable == WhenUnavailable::HandBack;
    view! {
        <details class="hours" data-testid="hours" data-connection=c.name.clone()>
            <summary>{summary}</summary>
            <form class="form" on:submit=submit>
                <label>
                    "Time zone"
                    <input type="text" name="time_zone" placeholder="e.g. Europe/Paris (blank: always open)"
                        prop:value=move || time_zone.get() on:input=move |e| time_zone.set(event_target_value(&e)) />
                </label>
                <div class="hours-days">
                    {days.into_iter().zip(protocol::routing::WEEKDAY_NAMES).map(|(day, name)| view! {
                        <label>
                            {name}
                            <input type="text" placeholder="closed, or 09:00-17:00" prop:value=move || day.get()
                                on:input=move |e| day.set(event_target_value(&e)) />
                        </label>
                    }).collect_view()}
                </div>
                <label>
                    "Holidays (closed all day)"
                    <input type="text" placeholder="2026-12-25, 2027-01-01" prop:value=move || holidays.get()
                        on:input=move |e| holidays.set(event_target_value(&e)) />
                </label>
                <label>
                    "When nobody can take it"
                    <select on:change=move |e| action.set(event_target_value(&e))>
                        <option value="queue" selected=!hand_back>"Keep it in the queue"</option>
                        <option value="hand_back" selected=hand_back>"Send the message and hand it back to the bot"</option>
                    </select>
                </label>
                <label>
                    "Message to the customer"
                    <textarea rows="2" maxlength=protocol::routing::MAX_NOTICE_CHARS.to_string()
                        placeholder="e.g. Our team is away until 9:00. The bot will help you meanwhile."
                        prop:value=move || message.get() on:input=move |e| message.set(event_target_value(&e))></textarea>
                </label>
                <label>
                    "Wait limit in minutes (blank: none)"
                    <input type="number" min="1" max=protocol::routing::MAX_WAIT_MINUTES.to_string()
                        prop:value=move || wait.get() on:input=move |e| wait.set(event_target_value(&e)) />
                </label>
                <label>
                    "Tell waiting customers their place (blank: off)"
                    <input type="text" maxlength=protocol::routing::MAX_NOTICE_CHARS.to_string()
                        placeholder="You are number {position} in the queue."
                        prop:value=move || position.get() on:input=move |e| position.set(event_target_value(&e)) />
                </label>
                <button class="button" type="submit" disabled=move || set.pending().get()>"Save hours"</button>
            </form>
        </details>
    }
}
