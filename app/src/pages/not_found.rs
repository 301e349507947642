use leptos::prelude::*;

/// Shown for any path no route matches; answers with a real 404 status.
#[component]
pub fn NotFound() -> impl IntoView {
    crate::components::hydration::mark_page_hydrated();
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <crate::components::layout::PublicHeader />
        <main id="main" class="page">
            <section class="card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. " <a href="/">"Back to the start page"</a></p>
            </section>
        </main>
    }
}
