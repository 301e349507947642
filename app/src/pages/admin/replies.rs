//! Admin: the team's canned replies, offered to every agent in the composer.

use leptos::prelude::*;

use crate::components::canned::{CannedData, CannedReplies};
use crate::components::guard::Guard;
use crate::components::session::Session;

#[component]
pub fn RepliesPage() -> impl IntoView {
    // Created outside the guard (see `Guard`).
    let session = Session::load();
    let data = CannedData::load(session);
    view! {
        <Guard session admin=true page=move |_| view! { <CannedReplies data shared=true /> } />
    }
}
