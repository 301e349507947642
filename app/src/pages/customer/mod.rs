//! The customer: `/customers/cus_…`, and the same tools in the conversation's
//! right pane (`profile`). Details agents can correct, every ticket of theirs,
//! notes about the person, and what Botpress knows, asked for on demand.

mod profile;

pub use profile::{CustomerLoaded, CustomerProfile};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::guard::Guard;
use crate::components::session::Session;

#[component]
pub fn CustomerPage() -> impl IntoView {
    let session = Session::load();
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    // Created here, outside the guard (see `Guard`).
    let loaded = CustomerLoaded::new(session, id);
    view! {
        <Guard session page=move |_| view! {
            <section class="card customer-page" data-testid="customer-page">
                <p class="muted"><a href="/inbox">"← Inbox"</a></p>
                <CustomerProfile loaded compact=false />
            </section>
        } />
    }
}
