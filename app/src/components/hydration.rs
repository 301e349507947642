//! A marker telling tests (and curious humans) that the page is interactive.
//!
//! Effects never run during SSR, so the flag flips only once the wasm has hydrated
//! the page. End-to-end tests wait for `data-hydrated="true"` before clicking.

use leptos::prelude::*;

/// Returns a signal that becomes `true` after hydration.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
