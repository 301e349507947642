//! The start page for a signed-in person: who they are and whether the instance is
//! healthy. Anyone not signed in is sent to the sign-in page (by the server, with a
//! redirect, before any content is sent).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{CurrentUser, Logout, me};
use crate::api::status::{ServerStatus, get_status};
use crate::error::AppError;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                user.get()
                    .map(|result| match result {
                        Ok(Some(user)) => view! { <SignedIn user /> }.into_any(),
                        Ok(None) | Err(AppError::Unauthorized) => {
                            view! { <Redirect path="/login" /> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SignedIn(user: CurrentUser) -> impl IntoView {
    // Rendered on the server first (the status is in the HTML), then refreshed from the
    // browser through the same server function.
    let refresh = Action::new(|_: &()| get_status());
    let initial = Resource::new(|| (), |_| get_status());
    let checks = move || refresh.version().get();
    let status = move || match refresh.value().get() {
        Some(latest) => Some(latest),
        None => initial.get(),
    };
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    // Signed out here, or the server refused us (deactivated, session ended): the
    // sign-in page is the only useful place to be.
    Effect::new(move |_| {
        let signed_out = matches!(logout.value().get(), Some(Ok(())));
        let refused = matches!(refresh.value().get(), Some(Err(AppError::Unauthorized)));
        if signed_out || refused {
            navigate("/login", Default::default());
        }
    });

    view! {
        <section class="card">
            <h1>"Baton is running"</h1>
            <p>
                "Signed in as " <strong data-testid="signed-in-as">{user.name.clone()}</strong>
                " (" {user.email.clone()} ", " {user.role.clone()} ")."
            </p>
            <p>
                "Baton receives conversations that your Botpress bot hands to a human, "
                "and lets your agents answer them from this browser."
            </p>
            <ActionForm action=logout>
                <button class="button secondary" type="submit">
                    "Sign out"
                </button>
            </ActionForm>
        </section>
        <section class="card status" aria-live="polite">
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
