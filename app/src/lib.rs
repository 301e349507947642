//! Baton's user interface, shared by the server (SSR, feature `ssr`) and the browser
//! (hydration, feature `hydrate`).
//!
//! - `pages/`: one module per page;
//! - `api/`: server functions, thin wrappers over the `backend` crate;
//! - `components/`: pieces shared by pages;
//! - `error`: the error type that crosses the network.

// Leptos view types nest deeply; the release (wasm) build needs room for them.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod security;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode, StaticSegment,
    components::{ParentRoute, Route, Router, Routes},
    lazy_route, path,
};

/// The output name cargo-leptos gives the site files (`/pkg/baton.{js,wasm,css}`).
pub const OUTPUT_NAME: &str = "baton";

/// The whole HTML document. Kept apart from [`App`] so the browser only hydrates the body.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="baton-css" href="/pkg/baton.css" />
        <Title text="Baton" />
        <Router>
            <components::layout::Layout>
                <Routes fallback=pages::not_found::NotFound>
                    // Pages that need a signed-in person render fully on the server
                    // first (`Async`), so "not signed in" is a real 302 to /login.
                    <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("status") view={Lazy::<StatusRoute>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("setup") view={Lazy::<SetupRoute>::new()} />
                    <Route path=StaticSegment("welcome") view={Lazy::<WelcomeRoute>::new()} />
                    // One workspace: the list stays mounted (and keeps its scroll) while
                    // the conversation beside it changes with the URL.
                    <ParentRoute path=StaticSegment("inbox") view=pages::inbox::InboxPage ssr=SsrMode::Async>
                        <Route path=StaticSegment("") view=pages::inbox::NoConversation ssr=SsrMode::Async />
                        <Route path=path!(":id") view=pages::inbox::conversation::ConversationPage ssr=SsrMode::Async />
                    </ParentRoute>
                    <Route path=StaticSegment("profile") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/customers/:id") view={Lazy::<CustomerRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/agents") view={Lazy::<AgentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/connections") view={Lazy::<ConnectionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/replies") view={Lazy::<RepliesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/labels") view={Lazy::<LabelsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/routing") view={Lazy::<RoutingRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/reports") view={Lazy::<ReportsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </components::layout::Layout>
        </Router>
    }
}

/// A page whose code the browser downloads only when it is visited (a separate wasm
/// module, built by `cargo leptos build --split`), so the inbox's first load does not
/// carry the admin pages, the profile and the setup wizard.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                components::hydration::mark_page_hydrated();
                $page().into_any()
            }
        }
    };
}

lazy_page!(StatusRoute, pages::status::StatusPage);
lazy_page!(LoginRoute, pages::login::LoginPage);
lazy_page!(SetupRoute, pages::setup::SetupPage);
lazy_page!(WelcomeRoute, pages::welcome::WelcomePage);
lazy_page!(ProfileRoute, pages::profile::ProfilePage);
lazy_page!(CustomerRoute, pages::customer::CustomerPage);
lazy_page!(AgentsRoute, pages::admin::agents::AgentsPage);
lazy_page!(ConnectionsRoute, pages::admin::connections::ConnectionsPage);
lazy_page!(RepliesRoute, pages::admin::replies::RepliesPage);
lazy_page!(LabelsRoute, pages::admin::labels::LabelsPage);
lazy_page!(RoutingRoute, pages::admin::routing::RoutingPage);
lazy_page!(ReportsRoute, pages::reports::ReportsPage);
lazy_page!(AuditRoute, pages::admin::audit::AuditPage);
