//! A marker telling tests (and curious humans) that the page is interactive.
//!
//! Effects never run during SSR, so the flag flips only once the wasm has hydrated
//! the page. End-to-end tests wait for `data-hydrated="true"` before clicking.
//!
//! The page sets it, not the frame: a lazy page (its own wasm chunk) hydrates only
//! once its chunk has arrived, well after the frame around it. A frame-level flag
//! said "interactive" while the profile's form was still server HTML, so text typed
//! then was wiped when the form hydrated.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;

/// How many routed pages on screen are interactive: during a client-side navigation
/// the new page's effect may run before or after the old page is dropped, so a count
/// (not a flag each page sets and clears) ends right either way.
#[derive(Clone, Copy)]
struct PagesHydrated(RwSignal<u32>);

/// For the frame: provides the marker and returns it, `false` until a page inside
/// calls [`mark_page_hydrated`].
pub fn provide_hydration_marker() -> Signal<bool> {
    let pages = RwSignal::new(0u32);
    provide_context(PagesHydrated(pages));
    Signal::derive(move || pages.get() > 0)
}

/// For each routed page, first thing in its body: the marker turns `true` once this
/// page is interactive, and back to `false` when it is left, unless another page on
/// screen already is.
pub fn mark_page_hydrated() {
    let Some(PagesHydrated(pages)) = use_context::<PagesHydrated>() else {
        return;
    };
    // Counted once its effect has run: a page dropped before that took nothing away.
    let counted = Arc::new(AtomicBool::new(false));
    Effect::new({
        let counted = Arc::clone(&counted);
        move |_| {
            if !counted.swap(true, Ordering::Relaxed) {
                pages.update(|n| *n += 1);
            }
        }
    });
    on_cleanup(move || {
        if counted.load(Ordering::Relaxed) {
            // `try_update`: when the whole app goes, the frame's signal may be gone first.
            let _ = pages.try_update(|n| *n = n.saturating_sub(1));
        }
    });
}
