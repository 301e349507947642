//! `/`: where a signed-in person works, the inbox; anyone else signs in first. The
//! server answers with the redirect, before any content is sent.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::auth::me;

#[component]
pub fn HomePage() -> impl IntoView {
    crate::components::hydration::mark_page_hydrated();
    let who = Resource::new(|| (), |_| me());
    view! {
        <Suspense>
            {move || {
                who.get()
                    .map(|result| {
                        let path = if matches!(result, Ok(Some(_))) { "/inbox" } else { "/login" };
                        view! { <Redirect path /> }
                    })
            }}
        </Suspense>
    }
}
