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
    SsrMode, StaticSegment,
    components::{ParentRoute, Route, Router, Routes},
    path,
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
                    <Route path=StaticSegment("status") view=pages::status::StatusPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("setup") view=pages::setup::SetupPage />
                    <Route path=StaticSegment("welcome") view=pages::welcome::WelcomePage />
                    // One workspace: the list stays mounted (and keeps its scroll) while
                    // the conversation beside it changes with the URL.
                    <ParentRoute path=StaticSegment("inbox") view=pages::inbox::InboxPage ssr=SsrMode::Async>
                        <Route path=StaticSegment("") view=pages::inbox::NoConversation ssr=SsrMode::Async />
                        <Route path=path!(":id") view=pages::inbox::conversation::ConversationPage ssr=SsrMode::Async />
                    </ParentRoute>
                    <Route path=StaticSegment("profile") view=pages::profile::ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/admin/agents") view=pages::admin::agents::AgentsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/connections") view=pages::admin::connections::ConnectionsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async />
                </Routes>
            </components::layout::Layout>
        </Router>
    }
}
