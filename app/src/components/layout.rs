//! The frame around every page: the skip link, the main area, the hydration marker.
//! Signed-in pages draw their navigation bar through the guard; the pages for people
//! who are not signed in draw [`PublicHeader`].

use leptos::prelude::*;

use super::hydration::provide_hydration_marker;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let hydrated = provide_hydration_marker();
    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            // First in the tab order, so keyboard users can pass the navigation.
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="content">{children()}</div>
        </div>
    }
}

/// The brand bar of the sign-in, setup, welcome and not-found pages.
#[component]
pub fn PublicHeader() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Baton"</a>
            <span class="tagline">"Live-agent inbox for Botpress"</span>
        </header>
    }
}
