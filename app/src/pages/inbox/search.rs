//! Search in the list pane: the box above the views, its filters, and the hits in
//! place of the list while a search is on.
//!
//! The search lives in the address (`?q=refund&status=closed`), like the view, so
//! it survives opening a hit, reloading and the back button. The box is a plain
//! GET form: it works before the wasm loads, and after, it navigates without a
//! reload. A hit opens its conversation at the message or note that matched
//! (`&message=…` or `&note=…`, which the conversation reads).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api::labels::LabelView;
use crate::api::search::{
    FilterChoices, HitKind, MAX_QUERY_CHARS, SearchFilters, SearchHit, Status, search,
    search_options,
};
use crate::components::session::Session;
use crate::components::time::Time;
use crate::error::AppError;

/// A search, as the address carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchState {
    pub q: String,
    pub filters: SearchFilters,
}

impl SearchState {
    pub fn from_query(query: &ParamsMap) -> Self {
        let get = |k: &str| query.get(k).unwrap_or_default();
        SearchState {
            q: get("q"),
            filters: SearchFilters {
                status: get("status"),
                label: get("label"),
                agent: get("agent"),
                connection: get("connection"),
                from: get("from"),
                to: get("to"),
            },
        }
    }

    /// Whether a search is on (the list shows hits instead of a view).
    pub fn active(&self) -> bool {
        !self.q.trim().is_empty()
    }

    /// `?q=…&…`: only the fields that are set, encoded.
    pub fn to_query(&self) -> String {
        let f = &self.filters;
        let pairs = [
            ("q", &self.q),
            ("status", &f.status),
            ("label", &f.label),
            ("agent", &f.agent),
            ("connection", &f.connection),
            ("from", &f.from),
            ("to", &f.to),
        ];
        let set: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if set.is_empty() {
            String::new()
        } else {
            format!("?{}", set.join("&"))
        }
    }

    fn filtered(&self) -> bool {
        self.filters != SearchFilters::default()
    }
}

/// Percent-encodes a query value (everything but the unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What search loads: the filters' choices and the hits of the search in the
/// address (none while no search is on). Created by the inbox page, outside the
/// guard (see `Guard`).
#[derive(Clone, Copy)]
pub struct SearchLoaded {
    options: Resource<Result<FilterChoices, AppError>>,
    hits: Resource<Result<Vec<SearchHit>, AppError>>,
}

impl SearchLoaded {
    pub fn new(session: Session, state: Memo<SearchState>) -> Self {
        Self {
            options: Resource::new(|| (), move |_| session.then(search_options())),
            hits: Resource::new(
                move || state.get(),
                move |s| async move {
                    if !s.active() {
                        return Ok(Vec::new());
                    }
                    session.then(search(s.q, s.filters)).await
                },
            ),
        }
    }
}

/// The search box and its filters.
#[component]
pub fn SearchBox(
    state: Memo<SearchState>,
    path: Memo<String>,
    all_labels: Resource<Result<Vec<LabelView>, AppError>>,
    loaded: SearchLoaded,
) -> impl IntoView {
    let navigate = use_navigate();
    // What the person is typing; reset whenever the address changes.
    let draft = RwSignal::new(state.get_untracked());
    Effect::new(move |_| draft.set(state.get()));
    let options = loaded.options;
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let draft = draft.get_untracked();
        let base = path.get_untracked();
        navigate(&format!("{base}{}", draft.to_query()), Default::default());
    };
    // A select shows what the address says; reading the draft instead would redraw
    // it on each choice and drop the keyboard focus.
    let field = move |get: fn(&SearchFilters) -> &String| state.with(|s| get(&s.filters).clone());
    let set = move |put: fn(&mut SearchFilters, String)| {
        move |e: leptos::ev::Event| {
            let value = event_target_value(&e);
            draft.update(|d| put(&mut d.filters, value));
        }
    };
    view! {
        <form class="search" role="search" method="get" action=move || path.get() on:submit=submit>
            <div class="search-row">
                <label for="search-q" class="visually-hidden">"Search"</label>
                <input
                    id="search-q"
                    name="q"
                    type="search"
                    data-testid="search-input"
                    placeholder="Search customers, messages, notes…"
                    maxlength=MAX_QUERY_CHARS.to_string()
                    aria-keyshortcuts="/"
                    prop:value=move || draft.with(|d| d.q.clone())
                    on:input=move |e| {
                        let value = event_target_value(&e);
                        draft.update(|d| d.q = value);
                    }
                />
                <button type="submit" class="button secondary" data-testid="search-submit">"Search"</button>
            </div>
            <details class="search-filters" open=state.get_untracked().filtered()>
                <summary data-testid="search-filters">"Filters"</summary>
                <div class="search-filter-grid">
                    {move || picker("Status", "status", statuses(), field(|f| &f.status), set(|f, v| f.status = v))}
                    <Transition fallback=|| ()>
                        {move || {
                            let labels = all_labels.get().and_then(Result::ok).unwrap_or_default();
                            let labels = labels.into_iter().map(|l| (l.id.to_string(), l.name)).collect();
                            picker("Label", "label", labels, field(|f| &f.label), set(|f, v| f.label = v))
                        }}
                        {move || {
                            let o = options.get().and_then(Result::ok).unwrap_or_default();
                            let connections = o.connections.into_iter().map(|(id, n)| (id.to_string(), n)).collect();
                            view! {
                                {picker("Agent", "agent", o.agents, field(|f| &f.agent), set(|f, v| f.agent = v))}
                                {picker("Bot", "connection", connections, field(|f| &f.connection), set(|f, v| f.connection = v))}
                            }
                        }}
                    </Transition>
                    <label>"From"
                        <input type="date" name="from" data-testid="filter-from"
                            prop:value=move || draft.with(|d| d.filters.from.clone())
                            on:change=set(|f, v| f.from = v) />
                    </label>
                    <label>"To"
                        <input type="date" name="to" data-testid="filter-to"
                            prop:value=move || draft.with(|d| d.filters.to.clone())
                            on:change=set(|f, v| f.to = v) />
                    </label>
                </div>
            </details>
        </form>
    }
}

/// One filter: a `<select>` drawn whole (options and choice together), "any" first.
fn picker(
    label: &'static str,
    name: &'static str,
    choices: Vec<(String, String)>,
    chosen: String,
    on_change: impl Fn(leptos::ev::Event) + 'static,
) -> impl IntoView {
    let any = if name == "agent" { "Anyone" } else { "Any" };
    let options = std::iter::once((String::new(), any.to_owned()))
        .chain(choices)
        .map(|(value, text)| {
            let picked = value == chosen;
            view! { <option value=value selected=picked>{text}</option> }
        })
        .collect_view();
    view! {
        <label>{label}
            <select name=name data-testid=format!("filter-{name}") on:change=on_change>{options}</select>
        </label>
    }
}

fn statuses() -> Vec<(String, String)> {
    Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), status_label(*s).to_owned()))
        .collect()
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Queued => "Queued",
        Status::Assigned => "Assigned",
        Status::Closed => "Closed",
    }
}

/// The hits of the search in the address, in place of the list.
#[component]
pub fn SearchResults(
    state: Memo<SearchState>,
    path: Memo<String>,
    loaded: SearchLoaded,
) -> impl IntoView {
    let hits = loaded.hits;
    let query = use_query_map();
    // The hit whose conversation is open, to mark it.
    let open = Memo::new(move |_| {
        let q = query.read();
        (
            path.get().strip_prefix("/inbox/").map(str::to_owned),
            q.get("message"),
            q.get("note"),
        )
    });
    view! {
        <div class="search-results" data-testid="search-results">
            <div class="search-summary">
                <span>"Results for “"{move || state.with(|s| s.q.clone())}"”"</span>
                <a href=move || path.get() class="link-button" data-testid="search-clear">"Clear search"</a>
            </div>
            <Transition fallback=|| view! { <p class="muted" role="status">"Searching…"</p> }>
                {move || hits.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert" data-testid="search-error">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted empty" data-testid="search-empty">
                            "Nothing matches. Every word must match the start of a word; try fewer words or other filters."
                        </p>
                    }.into_any(),
                    Ok(list) => {
                        let suffix = state.with_untracked(SearchState::to_query);
                        view! {
                            <ul class="hits" data-testid="search-hits">
                                {list.into_iter().map(|hit| view! { <Hit hit suffix=suffix.clone() open /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Hit(
    hit: SearchHit,
    suffix: String,
    open: Memo<(Option<String>, Option<String>, Option<String>)>,
) -> impl IntoView {
    let anchor = match (hit.message, hit.note) {
        (Some(m), _) => format!("&message={m}"),
        (_, Some(n)) => format!("&note={n}"),
        _ => String::new(),
    };
    let href = format!("/inbox/{}{suffix}{anchor}", hit.ticket);
    let kind = match hit.kind {
        HitKind::Customer => "Customer",
        HitKind::Ticket => "Ticket",
        HitKind::Message => "Message",
        HitKind::Note => "Note",
    };
    let who = hit
        .customer_name
        .clone()
        .unwrap_or_else(|| "Unknown customer".to_owned());
    let title = if hit.ticket_title.trim().is_empty() {
        "(no title)".to_owned()
    } else {
        hit.ticket_title.clone()
    };
    let author = hit.author.clone().map(|a| match hit.kind {
        HitKind::Note => format!("Note by {a}"),
        _ => format!("{a} wrote"),
    });
    let (ticket, message, note) = (
        hit.ticket.clone(),
        hit.message.map(|m| m.to_string()),
        hit.note.map(|n| n.to_string()),
    );
    let current = Memo::new(move |_| {
        open.with(|(t, m, n)| t.as_deref() == Some(&ticket) && *m == message && *n == note)
    });
    let current = move || current.get();
    view! {
        <li class=move || if current() { "hit selected" } else { "hit" } data-testid="search-hit" data-kind=hit.kind.as_str()>
            <a href=href class="hit-link" aria-current=move || current().then_some("page")>
                <span class="hit-top">
                    <span class=format!("hit-kind {}", hit.kind.as_str())>{kind}</span>
                    <span class="hit-who">{who}</span>
                    <span class="hit-at"><Time ms=hit.at /></span>
                </span>
                <span class="hit-snippet" data-testid="hit-snippet">
                    {hit.snippet.into_iter().map(|p| if p.hit {
                        view! { <mark>{p.text}</mark> }.into_any()
                    } else {
                        p.text.into_any()
                    }).collect_view()}
                </span>
                <span class="hit-meta">
                    {title}" · "{status_label(hit.status)}
                    {author.map(|a| view! { " · "{a} })}
                </span>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_round_trips_through_its_query_string() {
        let state = SearchState {
            q: "refund & Zoë".into(),
            filters: SearchFilters {
                status: "closed".into(),
                ..Default::default()
            },
        };
        assert_eq!(state.to_query(), "?q=refund%20%26%20Zo%C3%AB&status=closed");
        assert_eq!(SearchState::default().to_query(), "");
        assert!(state.active() && !SearchState::default().active());
    }
}
