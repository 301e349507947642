//! Diagnostics for a signed-in person (`/status`): who they are and whether the
//! instance is healthy. Anyone not signed in is sent to the sign-in page (by the
//! server, with a redirect, before any content is sent).

use leptos::prelude::*;

use crate::api::auth::CurrentUser;
use crate::api::status::{ServerStatus, get_status};
use crate::components::guard::Guard;
use crate::components::session::{Session, on_signed_out};
use crate::error::AppError;

#[component]
pub fn StatusPage() -> impl IntoView {
    // Rendered on the server first (the status is in the HTML), then refreshed from the
    // browser through the same server function. Created outside the guard (see `Guard`).
    let session = Session::load();
    let initial = Resource::new(|| (), move |_| session.then(get_status()));
    view! { <Guard session page=move |user| view! { <Status user initial /> } /> }
}

#[component]
fn Status(user: CurrentUser, initial: Resource<Result<ServerStatus, AppError>>) -> impl IntoView {
    let refresh = Action::new(|_: &()| get_status());
    let checks = move || refresh.version().get();
    let status = move || match refresh.value().get() {
        Some(latest) => Some(latest),
        None => initial.get(),
    };
    // The server refused us (deactivated, session ended): sign in again.
    on_signed_out(move || refresh.value().get());

    view! {
        <section class="card">
            <h1>"Baton is running"</h1>
            <p>
                "Signed in as " <strong>{user.name.clone()}</strong> " (" {user.email.clone()}
                ", " {user.role.as_str()} ")."
            </p>
            <p>
                "Baton receives conversations that your Botpress bot hands to a human, "
                "and lets your agents answer them from this browser."
            </p>
        </section>
        <section class="card server-status" aria-live="polite">
            <h2>"Server status"</h2>
            <Suspense fallback=|| view! { <p>"Checking…"</p> }>
                {move || status().map(|result| view! { <StatusView result=result /> })}
            </Suspense>
            <div class="actions">
                <button
                    class="button"
                    on:click=move |_| {
                        refresh.dispatch(());
                    }
                    disabled=move || refresh.pending().get()
                >
                    "Check again"
                </button>
                <span class="muted" data-testid="check-count">
                    {move || match checks() {
                        0 => String::new(),
                        1 => "Checked once from this page".to_owned(),
                        n => format!("Checked {n} times from this page"),
                    }}
                </span>
            </div>
        </section>
    }
}

#[component]
fn StatusView(result: Result<ServerStatus, AppError>) -> impl IntoView {
    match result {
        Ok(s) => view! {
            <dl class="facts" data-testid="status">
                <dt>"Version"</dt>
                <dd data-testid="version">{s.version}</dd>
                <dt>"Database"</dt>
                <dd data-testid="database">
                    {format!("reachable, schema {} ({} migrations)", s.schema_version, s.migrations)}
                </dd>
                <dt>"Database time (UTC)"</dt>
                <dd data-testid="database-time">{s.database_time}</dd>
            </dl>
        }
        .into_any(),
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}
