//! Admin: the audit log, filterable by actor and action, and the tickets' CSV export.
//! The filter lives in the URL (`?actor=…&action=…`), so a filtered view can be
//! bookmarked or shared.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::audit::{AuditEntry, list_audit};
use crate::components::guard::Guard;
use crate::components::session::Session;
use crate::components::time::{Shown, Time};
use crate::error::AppError;

/// Actor, action and the entry id to page back from, as the URL says.
fn filter_of(query: Memo<ParamsMap>) -> (String, String, Option<i64>) {
    let q = query.read();
    (
        q.get("actor").unwrap_or_default(),
        q.get("action").unwrap_or_default(),
        q.get("before").and_then(|b| b.parse::<i64>().ok()),
    )
}

#[component]
pub fn AuditPage() -> impl IntoView {
    // Created outside the guard (see `Guard`).
    let session = Session::load();
    let query = use_query_map();
    let entries = Resource::new(
        move || filter_of(query),
        move |(actor, action, before)| session.then(list_audit(actor, action, before)),
    );
    view! { <Guard session admin=true page=move |_| view! { <Audit entries /> <ExportTickets /> } /> }
}

/// The tickets of a date range as CSV. A plain GET form: the browser downloads what
/// the server streams (with the session), and the export is audited.
#[component]
fn ExportTickets() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Export tickets"</h2>
            <p class="muted">"Every ticket created in the range, as CSV: status, customer, agent, dates, messages, labels. Leave a date empty for no limit."</p>
            <form method="GET" action="/api/v1/tickets/export.csv" class="form inline-form" data-testid="export-form">
                <label>"From" <input type="date" name="from" /></label>
                <label>"To" <input type="date" name="to" /></label>
                <button class="button" type="submit">"Download CSV"</button>
            </form>
        </section>
    }
}

#[component]
fn Audit(entries: Resource<Result<Vec<AuditEntry>, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let filter = move || filter_of(query);
    view! {
        <section class="card">
            <h1>"Audit log"</h1>
            <Form method="GET" action="" attr:class="form inline-form">
                <label>"Who (part of the email)" <input type="search" name="actor" value=move || filter().0 /></label>
                <label>
                    "Action starts with"
                    <input type="search" name="action" list="audit-actions" value=move || filter().1 />
                </label>
                <datalist id="audit-actions">
                    {["login", "login.failed", "user.", "connection.", "token.", "profile.", "canned.", "label.", "tickets.export", "ticket."]
                        .map(|a| view! { <option value=a></option> })}
                </datalist>
                <button class="button" type="submit">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    entries.get().map(|result| match result {
                        Ok(rows) => {
                            let (actor, action, _) = filter();
                            let older = (rows.len() as i64 >= 100)
                                .then(|| rows.last().map(|e| e.id))
                                .flatten()
                                .map(|last| {
                                    format!("?actor={}&action={}&before={last}", crate::components::encode_query(&actor), crate::components::encode_query(&action))
                                });
                            view! {
                                <table class="table" data-testid="audit">
                                    <thead>
                                        <tr><th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th><th>"Details"</th></tr>
                                    </thead>
                                    <tbody>
                                        {rows
                                            .into_iter()
                                            .map(|e| view! {
                                                <tr>
                                                    <td><Time ms=e.at shown=Shown::Full /></td>
                                                    <td>{e.actor}</td>
                                                    <td>{e.ip.unwrap_or_default()}</td>
                                                    <td><code>{e.action}</code></td>
                                                    <td><code>{e.detail}</code></td>
                                                </tr>
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                {older.map(|href| view! { <a href=href>"Older entries"</a> })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}
