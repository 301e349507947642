//! The agent's workspace, one screen in three panes: the list of conversations on
//! the left, the open conversation in the middle, its context on the right.
//!
//! `/inbox` and `/inbox/tkt_…` are one parent route: the list (this module) stays
//! mounted, with its scroll position, while the conversation beside it
//! (`conversation`) follows the URL, so links and the back button work. Below 900 px
//! the panes show one at a time (the stylesheet decides).
//!
//! The list has the views Queued, Mine, All open, Closed and Mentions, each with a
//! live count, 50 rows a page (keyset paging, so it stays fast with tens of
//! thousands of tickets), and a label filter. The view and the label are in the URL
//! (`?view=mine&label=3`). Lists refetch when the realtime connection reports a
//! change. Above them, the search box (`search`); while a search is on, its hits
//! take the list's place.

pub mod conversation;
mod search;

use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::inbox::{Priority, Status, Summary, TicketPage, TicketRow, inbox_page};
use crate::api::labels::{LabelView, labels};
use crate::components::alerts::QueueSummary;
use crate::components::guard::Guard;
use crate::components::labels::LabelChip;
use crate::components::realtime::use_realtime;
use crate::components::session::{Session, on_signed_out};
use crate::components::shortcuts::{HelpOpen, ShortcutHelp};
use crate::error::AppError;
use search::{SearchBox, SearchLoaded, SearchResults, SearchState};

#[component]
pub fn InboxPage() -> impl IntoView {
    // Created here, outside the guard (see `Guard`).
    let session = Session::load();
    let realtime = use_realtime();
    let query = use_query_map();
    let view_name = Memo::new(move |_| {
        let v = query.read().get("view").unwrap_or_default();
        if VIEWS.iter().any(|(k, _)| *k == v) {
            v
        } else {
            "queued".to_owned()
        }
    });
    let label = Memo::new(move |_| {
        query
            .read()
            .get("label")
            .and_then(|l| l.parse::<i64>().ok())
    });
    let first = Resource::new(
        move || (view_name.get(), label.get(), realtime.changes.get()),
        move |(view, label, _)| session.then(inbox_page(view, None, label)),
    );
    let all_labels = Resource::new(|| (), move |_| session.then(labels()));
    let searching = Memo::new(move |_| SearchState::from_query(&query.read()));
    let search = SearchLoaded::new(session, searching);
    // The conversation route inside reuses who is signed in.
    provide_context(session);
    let help = RwSignal::new(false);
    crate::components::shortcuts::listen(help);
    provide_context(HelpOpen(help));
    view! {
        <ShortcutHelp help />
        <div class="workspace" data-testid="workspace">
            <Guard session page=move |_| view! { <Inbox view_name label all_labels first searching search /> } />
            // Outside the guard: its `<Suspense>` re-runs its children, which would
            // create the conversation (and its resources) anew each time.
            <Outlet />
        </div>
    }
}

/// The middle pane while no conversation is open.
#[component]
pub fn NoConversation() -> impl IntoView {
    crate::components::hydration::mark_page_hydrated();
    view! {
        <section class="pane-empty" data-testid="no-conversation" aria-label="Conversation">
            <div class="empty-state">
                <p class="empty-title">"No conversation open"</p>
                <p class="muted">
                    "Pick one from the list. New conversations appear there as soon as a bot hands one over."
                </p>
            </div>
        </section>
    }
}

/// `?view=…&label=…` of the current address, to keep the list's view and filter
/// when opening a ticket.
fn view_query(view: &str, label: Option<i64>) -> String {
    match (view, label) {
        ("queued", None) => String::new(),
        ("queued", Some(l)) => format!("?label={l}"),
        (v, None) => format!("?view={v}"),
        (v, Some(l)) => format!("?view={v}&label={l}"),
    }
}

const VIEWS: [(&str, &str); 5] = [
    ("queued", "Queued"),
    ("mine", "Mine"),
    ("open", "All open"),
    ("closed", "Closed"),
    ("mentions", "Mentions"),
];

/// "3 min", "2 h 5 min", "4 d".
pub fn waited(now: i64, since: i64) -> String {
    let minutes = (now - since).max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

/// The server's clock, advanced every 30 s in the browser, so that waiting times
/// agree with the server-rendered HTML and then keep ticking. Each fresh reading
/// from the server restarts the count from it.
pub fn ticking_now(start: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Signal<i64> {
    let base = Memo::new(move |_| start().unwrap_or(0));
    let offset = RwSignal::new(0_i64);
    Effect::new(move |_| {
        base.track();
        offset.set(0);
    });
    crate::components::every(std::time::Duration::from_secs(30), move || {
        offset.update(|o| *o += 30_000);
    });
    Signal::derive(move || base.get() + offset.get())
}

#[component]
fn Inbox(
    view_name: Memo<String>,
    label: Memo<Option<i64>>,
    all_labels: Resource<Result<Vec<LabelView>, AppError>>,
    first: Resource<Result<TicketPage, AppError>>,
    searching: Memo<SearchState>,
    search: SearchLoaded,
) -> impl IntoView {
    let view_name = move || view_name.get();
    let search_on = move || searching.with(SearchState::active);
    let label_now = move || label.get();
    let help = use_context::<HelpOpen>();
    let summary = use_context::<QueueSummary>();
    // Later pages, appended by "Load more"; a change reloads from the first page.
    let more = RwSignal::new(Vec::<TicketRow>::new());
    let next = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            more.set(Vec::new());
            next.set(page.next);
        }
    });
    let load_more = Action::new(move |cursor: &String| {
        inbox_page(view_name(), Some(cursor.clone()), label.get_untracked())
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = load_more.value().get() {
            more.update(|m| m.extend(page.rows));
            next.set(page.next);
        }
    });
    on_signed_out(move || first.get());
    let summary_now = move || summary.and_then(|s| s.get());
    let now = ticking_now(move || summary_now().map(|s| s.now));
    // The open ticket, to mark its row; tabs keep it open.
    let location = use_location();
    let path = Memo::new(move |_| location.pathname.get());
    let open_ticket = Memo::new(move |_| {
        path.get()
            .strip_prefix("/inbox/")
            .map(str::to_owned)
            .unwrap_or_default()
    });

    view! {
        <section class="pane-list" data-testid="list-pane" aria-label="Conversations">
            <div class="inbox-head">
                <h1>"Inbox"</h1>
                <LiveState />
                <span class="spacer"></span>
                <button type="button" class="link-button" data-testid="show-shortcuts"
                    aria-keyshortcuts="?" title="Keyboard shortcuts (?)"
                    on:click=move |_| {
                        if let Some(HelpOpen(help)) = help {
                            help.update(|h| *h = !*h);
                        }
                    }>"Shortcuts"</button>
            </div>
            <SearchBox state=searching path all_labels loaded=search />
            <Show when=search_on>
                <SearchResults state=searching path loaded=search />
            </Show>
            <div class="list-views" hidden=search_on>
            <nav class="tabs" aria-label="Views">
                {VIEWS
                    .map(|(key, label)| {
                        let count = move || {
                            summary_now()
                                .map(|s: Summary| match key {
                                    "queued" => s.queued,
                                    "mine" => s.mine,
                                    "open" => s.open,
                                    "mentions" => s.mentions,
                                    _ => s.closed,
                                })
                                .map(|n| n.to_string())
                                .unwrap_or_default()
                        };
                        view! {
                            <a
                                href=move || match label_now() {
                                    Some(l) => format!("{}?view={key}&label={l}", path.get()),
                                    None => format!("{}?view={key}", path.get()),
                                }
                                class=move || if view_name() == key { "tab active" } else { "tab" }
                                aria-current=move || (view_name() == key).then_some("page")
                                data-testid=format!("tab-{key}")
                            >
                                {label}
                                " "
                                <span class="count" data-testid=format!("count-{key}")>{count}</span>
                            </a>
                        }
                    })}
            </nav>
            <LabelFilter label all_labels path view_name=Signal::derive(view_name) />
            <Transition fallback=|| view! { <ListSkeleton /> }>
                {move || {
                    first
                        .get()
                        .map(|result| match result {
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(page) if page.rows.is_empty() => {
                                view! { <p class="muted empty" data-testid="empty">{empty_text(&view_name())}</p> }
                                    .into_any()
                            }
                            Ok(page) => {
                                let threshold = summary_now().map_or(5, |s| s.threshold_minutes);
                                view! {
                                    <ul class="tickets" data-testid="tickets">
                                        {page
                                            .rows
                                            .into_iter()
                                            .map(|row| view! { <Row row now threshold open_ticket view_name=view_name() label=label_now() /> })
                                            .collect_view()}
                                        <For
                                            each=move || more.get()
                                            key=|row| row.id.clone()
                                            children=move |row| view! { <Row row now threshold open_ticket view_name=view_name() label=label_now() /> }
                                        />
                                    </ul>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <div class="actions" hidden=move || next.get().is_none()>
                <button
                    class="button secondary"
                    disabled=move || load_more.pending().get()
                    on:click=move |_| {
                        if let Some(cursor) = next.get() {
                            load_more.dispatch(cursor);
                        }
                    }
                >
                    "Load more"
                </button>
            </div>
            </div>
        </section>
    }
}

/// Shows only the tickets with one label. A plain link per choice would crowd the
/// pane; a `<select>` that navigates keeps the filter in the URL like the view.
#[component]
fn LabelFilter(
    label: Memo<Option<i64>>,
    all_labels: Resource<Result<Vec<LabelView>, AppError>>,
    path: Memo<String>,
    view_name: Signal<String>,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    // The whole <select> renders at once (see the transfer menu for why).
    let select = move || {
        let list = all_labels.get().and_then(Result::ok).unwrap_or_default();
        if list.is_empty() {
            return None;
        }
        let chosen = label.get();
        let options = list
            .into_iter()
            .map(|l| {
                let picked = chosen == Some(l.id);
                view! { <option value=l.id.to_string() selected=picked>{l.name}</option> }
            })
            .collect::<Vec<_>>();
        let navigate = navigate.clone();
        Some(view! {
            <label class="label-filter">
                "Label"
                <select data-testid="label-filter" on:change=move |e| {
                    let value = event_target_value(&e).parse::<i64>().ok();
                    let view = view_name.get_untracked();
                    let url = format!("{}{}", path.get_untracked(), view_query(&view, value));
                    navigate(&url, Default::default());
                }>
                    <option value="" selected=chosen.is_none()>"All"</option>
                    {options}
                </select>
            </label>
        })
    };
    view! { <Transition fallback=|| ()>{select}</Transition> }
}

/// Placeholder rows while the first page loads.
#[component]
fn ListSkeleton() -> impl IntoView {
    view! {
        <div class="skeleton" role="status">
            <span class="visually-hidden">"Loading conversations…"</span>
            <div class="skeleton-line wide"></div>
            <div class="skeleton-line"></div>
            <div class="skeleton-line wide"></div>
            <div class="skeleton-line"></div>
        </div>
    }
}

fn empty_text(view: &str) -> &'static str {
    match view {
        "queued" => {
            "Nobody is waiting. New conversations appear here as soon as a bot hands one over."
        }
        "mine" => "You hold no tickets. Take one from the queue.",
        "open" => "No open tickets.",
        "mentions" => "No notes mention you yet. Colleagues mention you with @ and your name.",
        _ => "No closed tickets yet.",
    }
}

#[component]
fn Row(
    row: TicketRow,
    now: Signal<i64>,
    threshold: u32,
    open_ticket: Memo<String>,
    view_name: String,
    label: Option<i64>,
) -> impl IntoView {
    let customer = row
        .customer_name
        .clone()
        .or_else(|| row.customer_email.clone())
        .unwrap_or_else(|| "Unknown customer".to_owned());
    let email = row
        .customer_email
        .clone()
        .filter(|_| row.customer_name.is_some());
    let title = if row.title.trim().is_empty() {
        "(no title)".to_owned()
    } else {
        row.title.clone()
    };
    let created = row.created_at;
    let queued = row.status == Status::Queued;
    let overdue = move || queued && now.get() - created > i64::from(threshold) * 60_000;
    let holder = match (row.status, row.mine, row.assignee_name.clone()) {
        (Status::Closed, ..) => "Closed".to_owned(),
        (_, true, _) => "You".to_owned(),
        (_, _, Some(name)) => name,
        _ => "Unassigned".to_owned(),
    };
    let since = if row.status == Status::Closed {
        row.closed_at.unwrap_or(created)
    } else {
        created
    };
    let preview = row.last_preview.clone().unwrap_or_default();
    let unread = row.unread;
    let id = row.id.clone();
    let selected = Memo::new(move |_| open_ticket.with(|open| *open == id));
    let selected = move || selected.get();
    let initials = crate::components::avatar::initials(&customer);
    view! {
        <li
            class=move || match (overdue(), selected()) {
                (true, true) => "ticket overdue selected",
                (true, false) => "ticket overdue",
                (false, true) => "ticket selected",
                (false, false) => "ticket",
            }
            data-testid="ticket"
            data-ticket=row.id.clone()
        >
            <a
                href=format!("/inbox/{}{}", row.id, view_query(&view_name, label))
                class="ticket-link"
                aria-current=move || selected().then_some("page")
            >
                <span class="avatar-initials" aria-hidden="true">{initials}</span>
                <span class="ticket-main">
                    <span class="ticket-top">
                        <span class="ticket-customer">{customer}</span>
                        <span class="ticket-wait" title="Waiting time">{move || waited(now.get(), since)}</span>
                    </span>
                    <span class="ticket-title">{title}</span>
                    {email.map(|e| view! { <span class="ticket-email">{e}</span> })}
                    <span class="ticket-bottom">
                        <span class="ticket-preview">{preview}</span>
                        {(unread > 0).then(|| view! { <span class="badge" data-testid="unread" title="Unread messages">{unread}</span> })}
                    </span>
                    {handoff_chips(row.priority, row.team.clone())}
                    {(!row.labels.is_empty()).then(|| view! {
                        <span class="ticket-labels">
                            {row.labels.clone().into_iter().map(|l| view! { <LabelChip label=l /> }).collect_view()}
                        </span>
                    })}
                    <span class="ticket-holder" data-testid="holder">{holder}</span>
                </span>
            </a>
        </li>
    }
}

/// What the bot said about the handoff, beside the labels: a priority other than
/// normal, and the team whose queue it is in.
pub fn handoff_chips(priority: Option<Priority>, team: Option<String>) -> impl IntoView {
    let priority = priority.filter(|p| *p != Priority::Normal);
    (priority.is_some() || team.is_some()).then(|| {
        view! {
            <span class="ticket-handoff">
                {priority.map(|p| view! {
                    <span class=format!("chip priority {}", p.as_str()) data-testid="priority" title="Priority the bot set">
                        {p.as_str()}
                    </span>
                })}
                {team.map(|t| view! {
                    <span class="chip team" data-testid="team" title="The team whose queue it is in">{t}</span>
                })}
            </span>
        }
    })
}

/// The realtime connection's state, for the person to see.
#[component]
pub fn LiveState() -> impl IntoView {
    let realtime = use_realtime();
    view! {
        <span class=move || realtime.state.get().class() data-testid="live-state" role="status">
            {move || realtime.state.get().label()}
        </span>
    }
}
