//! Building blocks shared by pages.

pub mod alerts;
pub mod avatar;
pub mod canned;
pub mod guard;
pub mod hydration;
pub mod labels;
pub mod layout;
pub mod message;
pub mod realtime;
pub mod session;
pub mod shortcuts;
pub mod time;

/// Runs `tick` every `period` while the calling component is mounted (in the
/// browser; effects do not run on the server).
pub fn every(period: std::time::Duration, tick: impl Fn() + Clone + 'static) {
    use leptos::prelude::{Effect, on_cleanup, set_interval_with_handle};
    Effect::new(move |_| {
        let handle = set_interval_with_handle(tick.clone(), period);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
}

/// Empties `form` once its action succeeds, so the next entry starts clean (the
/// outcome stays on screen beside it).
pub fn reset_on_success<T, E>(
    form: leptos::prelude::NodeRef<leptos::html::Form>,
    value: impl Fn() -> Option<Result<T, E>> + 'static,
) {
    use leptos::prelude::{Effect, GetUntracked};
    Effect::new(move |_| {
        if matches!(value(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
}

/// The first of some actions' errors, as an alert: a form with several actions
/// (add, save, delete) shows why the latest one failed.
pub fn first_error(
    errors: impl IntoIterator<Item = Option<crate::error::AppError>>,
) -> Option<impl leptos::prelude::IntoView> {
    use leptos::prelude::*;
    errors
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
}

/// Asks the person in front of the screen to confirm a consequential action. On the
/// server there is nobody to ask (and no click to answer), so it says no.
pub fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .confirm_with_message(question)
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}

/// Answers the page with 404 (on the server; the browser has no status to set),
/// for a page whose subject does not exist.
pub fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// Percent-encodes a value for a URL's query (the filters pages keep in their URL).
pub fn encode_query(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
