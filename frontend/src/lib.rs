//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    // Panics show up in the browser console with a readable message instead of
    // "unreachable executed".
    console_error_panic_hook::set_once();
    // `hydrate_lazy`, not `hydrate_body`: some routes are separate wasm modules
    // (see `app::App`), loaded before their page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
