//! Keyboard shortcuts for the workspace, as in the inboxes agents know: `j`/`k` move
//! between conversations, `Enter` opens one, `t` takes it, `r` replies, `n` writes a
//! note, `Esc` leaves, `?` lists them. None acts while the person types in a field
//! (there `Esc` leaves the field), or with Ctrl, Alt or Meta held, so the browser's
//! and the screen reader's own keys stay theirs.
//!
//! They act on the page as drawn (the links and buttons that have test ids), so a
//! shortcut does exactly what the click it stands for does, checks included.

use leptos::prelude::*;

/// The shortcuts, as the help lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("j / k", "Next / previous conversation in the list"),
    ("Enter", "Open the conversation in focus"),
    ("t", "Take the open conversation"),
    ("r", "Write a reply"),
    ("n", "Write a private note"),
    ("/", "Search (in the reply box: pick a canned reply)"),
    ("Esc", "Leave the box you type in, then the conversation"),
    ("?", "Show or hide this list"),
];

/// Whether the list of shortcuts is shown: the workspace provides it, so that its
/// *Shortcuts* button and `?` open the same list.
#[derive(Debug, Clone, Copy)]
pub struct HelpOpen(pub RwSignal<bool>);

/// Listens for the shortcuts while the workspace is mounted; `help` shows the list.
pub fn listen(help: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        let handle = window_event_listener(leptos::ev::keydown, move |e| {
            client::on_key(&e, help, &navigate);
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = help;
}

/// The list of shortcuts, as a dialog `?` opens and `Esc` closes.
#[component]
pub fn ShortcutHelp(help: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="shortcut-help" role="dialog" aria-modal="false" aria-labelledby="shortcut-title"
            data-testid="shortcut-help" hidden=move || !help.get()>
            <h2 id="shortcut-title">"Keyboard shortcuts"</h2>
            <dl>
                {KEYS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
            </dl>
            <button type="button" class="button secondary" on:click=move |_| help.set(false)>"Close"</button>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement, KeyboardEvent};

    /// Whether the event comes from somewhere the person types.
    fn typing(e: &KeyboardEvent) -> Option<HtmlElement> {
        let el = e.target()?.dyn_into::<HtmlElement>().ok()?;
        let tag = el.tag_name().to_ascii_lowercase();
        (matches!(tag.as_str(), "input" | "textarea" | "select") || el.is_content_editable())
            .then_some(el)
    }

    fn find(selector: &str) -> Option<HtmlElement> {
        document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<HtmlElement>().ok())
    }

    fn click(selector: &str) -> bool {
        match find(selector) {
            Some(el) if !el.has_attribute("disabled") => {
                el.click();
                true
            }
            _ => false,
        }
    }

    /// Switches the composer to `mode` (`reply` or `note`) and puts the cursor in it.
    fn write(mode: &str) -> bool {
        if !click(&format!("[data-testid=mode-{mode}]")) {
            return false;
        }
        if let Some(field) = find("#composer-text") {
            let _ = field.focus();
        }
        true
    }

    /// Focuses the next (`step` 1) or previous (-1) row of the list.
    fn move_in_list(step: i32) -> bool {
        let Ok(links) = document().query_selector_all(
            "[data-testid=tickets] a.ticket-link, [data-testid=search-hits] a.hit-link",
        ) else {
            return false;
        };
        let links: Vec<HtmlElement> = (0..links.length())
            .filter_map(|i| links.get(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .collect();
        if links.is_empty() {
            return false;
        }
        let active: Option<Element> = document().active_element();
        // From the focused row, else the open one, else from before the first.
        let from = links
            .iter()
            .position(|l| {
                active
                    .as_ref()
                    .is_some_and(|a| a == l.unchecked_ref::<Element>())
            })
            .or_else(|| links.iter().position(|l| l.has_attribute("aria-current")));
        let next = match (from, step) {
            (None, _) => 0,
            (Some(i), 1) => (i + 1).min(links.len() - 1),
            (Some(i), _) => i.saturating_sub(1),
        };
        let _ = links[next].focus();
        links[next].scroll_into_view_with_bool(false);
        true
    }

    pub fn on_key(
        e: &KeyboardEvent,
        help: RwSignal<bool>,
        navigate: &impl Fn(&str, leptos_router::NavigateOptions),
    ) {
        if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() || e.is_composing()
        {
            return;
        }
        let key = e.key();
        if let Some(field) = typing(e) {
            // Esc leaves the field (the canned-reply picker has taken its own Esc).
            if key == "Escape" {
                let _ = field.blur();
            }
            return;
        }
        let handled = match key.as_str() {
            "j" => move_in_list(1),
            "k" => move_in_list(-1),
            "t" => click("[data-testid=take]"),
            "r" => write("reply"),
            "n" => write("note"),
            "/" => match find("#search-q") {
                Some(field) => {
                    let _ = field.focus();
                    true
                }
                None => false,
            },
            "?" => {
                help.update(|h| *h = !*h);
                true
            }
            "Escape" if help.get_untracked() => {
                help.set(false);
                true
            }
            "Escape" => {
                let location = window().location();
                let path = location.pathname().unwrap_or_default();
                if path.starts_with("/inbox/") {
                    let search = location.search().unwrap_or_default();
                    navigate(&format!("/inbox{search}"), Default::default());
                    true
                } else {
                    false
                }
            }
            _ => false,
        };
        if handled {
            e.prevent_default();
        }
    }
}
