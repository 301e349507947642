//! The frame around every page: header, main area, hydration marker.

use leptos::prelude::*;

use super::hydration::use_hydrated;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <header class="topbar">
                <a class="brand" href="/">
                    "Baton"
                </a>
                <span class="tagline">"Live-agent inbox for Botpress"</span>
            </header>
            <main class="content">{children()}</main>
        </div>
    }
}
