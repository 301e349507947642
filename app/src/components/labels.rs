//! A label as a coloured chip, wherever labels show: inbox rows, the conversation,
//! the admin page.
//!
//! The colour is set through the CSSOM once the page runs in the browser, never as
//! a `style` attribute: the Content Security Policy (`style-src 'self'`) refuses
//! inline styles, and rightly, since a style attribute is where injected CSS would
//! go. Before the wasm loads, chips show in the neutral chip colour.

use leptos::html;
use leptos::prelude::*;

use crate::api::labels::LabelView;

/// The label's colour and the text colour on it, if the colour is `#rrggbb` (the
/// server never stores anything else; a chip with another keeps the neutral look).
fn colours(colour: &str) -> Option<(String, &'static str)> {
    let (_, colour) = protocol::label::validate("label", colour).ok()?;
    let text = protocol::label::text_on(&colour);
    Some((colour, text))
}

/// A chip in the label's colour; `children` follow the name (a remove button).
#[component]
pub fn LabelChip(label: LabelView, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let chip = NodeRef::<html::Span>::new();
    let paint = colours(&label.colour);
    // Effects run in the browser only, where the element is a web_sys one.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let (Some(el), Some((background, text))) = (chip.get(), paint.as_ref()) {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("background-color", background);
            let _ = style.set_property("color", text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (chip, &paint);
    });
    view! {
        <span class="label-chip" node_ref=chip data-testid="label">
            {label.name}
            {children.map(|c| c())}
        </span>
    }
}
