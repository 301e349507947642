//! Pages for signed-in people. [`Guard`] loads who is signed in (on the server first,
//! so "not signed in" is a redirect before any content), refuses non-admins on admin
//! pages with a 403, and draws the navigation bar.
//!
//! **A page creates its resources before the guard, never inside `page`.** The
//! guard's `<Suspense>` re-runs its children to discover every resource they read
//! (on the server, until no load is pending). A resource created in there is a new
//! resource, with a new load, on every re-run, so the loop feeds itself: the inbox
//! once ran its queries about 5,000 times per render (leptos-rs/leptos#4866). Each
//! page's `XPage` component therefore creates its `Session`, then its resources
//! (which wait for the session) and the actions they depend on, and hands them to
//! the part inside the guard.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use super::alerts::{Alerts, QueueSummary};
use super::session::Session;
use crate::api::auth::{CurrentUser, Logout, Role};
use crate::api::profile::{Availability, SetAvailability, my_availability};
use crate::error::AppError;

#[component]
pub fn Guard<F, V>(
    /// Who is signed in, loaded by the page before its own resources.
    session: Session,
    /// Only admins may see this page.
    #[prop(optional)]
    admin: bool,
    /// The page, given the signed-in person.
    page: F,
) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = session.0;
    let summary = QueueSummary::load(session);
    provide_context(summary);
    let availability = Resource::new(|| (), move |_| session.then(my_availability()));
    view! {
        // A `<Transition>`, not a `<Suspense>`: the queue summary read in the
        // navigation refetches on every live change (a message read elsewhere, a new
        // ticket), and a `<Suspense>` would blank the whole page, navigation included,
        // until it answered.
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || {
                user.get()
                    .map(|result| match result {
                        Ok(Some(user)) if admin && user.role != Role::Admin => {
                            forbidden_status();
                            view! {
                                <Nav user summary availability />
                                <main id="main" class="page">
                                    <section class="card">
                                        <h1>"Admins only"</h1>
                                        <p>"This page is for admins. Ask an admin if you need access."</p>
                                    </section>
                                </main>
                            }
                                .into_any()
                        }
                        Ok(Some(user)) => {
                            view! {
                                <Nav user=user.clone() summary availability />
                                <main id="main" class="page">{page(user)}</main>
                            }
                                .into_any()
                        }
                        Ok(None) | Err(AppError::Unauthorized) => {
                            view! { <Redirect path="/login" /> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// What shows while the session loads: the frame's shape, not a bare "Loading…",
/// so the screen does not jump when the page arrives.
#[component]
fn Skeleton() -> impl IntoView {
    view! {
        <header class="topbar app-bar">
            <span class="brand">"Baton"</span>
        </header>
        <main id="main" class="page" aria-busy="true">
            <div class="skeleton" role="status">
                <span class="visually-hidden">"Loading…"</span>
                <div class="skeleton-line wide"></div>
                <div class="skeleton-line"></div>
                <div class="skeleton-line"></div>
            </div>
        </main>
    }
}

fn forbidden_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
}

#[component]
fn Nav(
    user: CurrentUser,
    summary: QueueSummary,
    availability: Resource<Result<Availability, AppError>>,
) -> impl IntoView {
    super::realtime::connect();
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    let realtime = super::realtime::use_realtime();
    Effect::new(move |_| {
        if let Some(result) = logout.value().get() {
            if matches!(result, Err(ref e) if *e != AppError::Unauthorized) {
                // Maybe still signed in: a sign-out from elsewhere counts again.
                realtime.signing_out.set(false);
            }
            navigate("/login", Default::default());
        }
    });
    let is_admin = user.role == Role::Admin;
    view! {
        <header class="topbar app-bar">
        <a class="brand" href="/inbox">"Baton"</a>
        <nav class="nav" aria-label="Main">
            <a href="/inbox" data-testid="nav-inbox">"Inbox"</a>
            <a href="/status">"Status"</a>
            {is_admin
                .then(|| {
                    view! {
                        <a href="/admin/agents">"Agents"</a>
                        <a href="/admin/connections">"Connections"</a>
                        <a href="/admin/routing">"Routing"</a>
                        <a href="/reports">"Reports"</a>
                        <a href="/admin/replies">"Replies"</a>
                        <a href="/admin/labels">"Labels"</a>
                        <a href="/admin/audit">"Audit"</a>
                    }
                })}
            <span class="spacer"></span>
            <Alerts summary />
            <AvailabilitySwitch stored=availability me=user.public_id.clone() />
            <a href="/profile" data-testid="signed-in-as">
                {user.name}
            </a>
            <ActionForm action=logout attr:class="inline"
                // Before the call goes out: the server closes this tab's socket
                // while it signs the session out.
                on:submit=move |_| realtime.signing_out.set(true)>
                <button class="button secondary" type="submit">
                    "Sign out"
                </button>
            </ActionForm>
        </nav>
        </header>
    }
}

/// *Available* or *Away*, as the person chose, in the navigation bar. The choice is
/// stored at once and shown to colleagues; with no tab open they see *offline*.
#[component]
fn AvailabilitySwitch(
    stored: Resource<Result<Availability, AppError>>,
    /// The person's public id, as presence events name them.
    me: String,
) -> impl IntoView {
    let set = ServerAction::<SetAvailability>::new();
    // What the person picked here, until the stored choice is read again; a refused
    // change goes back to the stored choice.
    let picked = RwSignal::new(None::<Availability>);
    Effect::new(move |_| {
        if matches!(set.value().get(), Some(Err(_))) {
            picked.set(None);
        }
    });
    // A choice made in another tab shows here too: the person's own presence
    // event reads the stored choice again, which then wins over this tab's pick.
    let realtime = super::realtime::use_realtime();
    Effect::new(move |_| {
        if realtime.presence_of.get().as_deref() == Some(me.as_str()) {
            stored.refetch();
        }
    });
    Effect::new(move |first: Option<()>| {
        stored.track();
        if first.is_some() {
            picked.set(None);
        }
    });
    super::session::on_signed_out(move || set.value().get());
    let current = move || {
        picked
            .get()
            .or_else(|| stored.get().and_then(Result::ok))
            .unwrap_or(Availability::Available)
    };
    view! {
        <label class="availability" data-state=move || current().as_str()>
            <span class="visually-hidden">"Your availability"</span>
            <select data-testid="availability" prop:value=move || current().as_str()
                on:change=move |e| {
                    if let Ok(status) = event_target_value(&e).parse::<Availability>() {
                        picked.set(Some(status));
                        set.dispatch(SetAvailability { status });
                    }
                }>
                <option value="available" selected=move || current() == Availability::Available>
                    "Available"
                </option>
                <option value="away" selected=move || current() == Availability::Away>
                    "Away"
                </option>
            </select>
        </label>
    }
}
