//! The ticket's labels under its title: each with a button to take it off, and
//! *+ Label* to put another on. Any agent may; everyone sees it live.

use leptos::prelude::*;

use super::Loaded;
use crate::api::inbox::ConversationData;
use crate::api::labels::{LabelTicket, LabelView, labels};
use crate::components::labels::LabelChip;

#[component]
pub(super) fn TicketLabels(c: ConversationData, loaded: Loaded) -> impl IntoView {
    let labelling = loaded.labelling;
    let open = loaded.label_menu;
    let id = c.ticket.id.clone();
    let on: Vec<LabelView> = c.ticket.labels.clone();
    let carried: Vec<i64> = on.iter().map(|l| l.id).collect();
    // Loaded when the menu opens, so a label an admin just made is there.
    let all = Action::new(|_: &()| labels());
    let chips = on
        .into_iter()
        .map(|l| {
            let (ticket, label) = (id.clone(), l.id);
            let name = l.name.clone();
            view! {
                <LabelChip label=l>
                    <button type="button" class="label-remove" aria-label=format!("Remove the label {name}")
                        data-testid="remove-label"
                        on:click=move |_| {
                            labelling.dispatch(LabelTicket { id: ticket.clone(), label, on: false });
                        }>"×"</button>
                </LabelChip>
            }
        })
        .collect_view();
    let menu_id = id.clone();
    let menu = move || {
        let choices: Vec<LabelView> = all
            .value()
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !carried.contains(&l.id))
            .collect();
        if all.value().with(Option::is_none) {
            return view! { <li class="muted">"Loading…"</li> }.into_any();
        }
        if choices.is_empty() {
            return view! {
                <li class="muted" data-testid="no-labels">"No other labels. Admins define them under Labels."</li>
            }
            .into_any();
        }
        choices
            .into_iter()
            .map(|l| {
                let (ticket, label) = (menu_id.clone(), l.id);
                view! {
                    <li>
                        <button type="button" class="label-choice" data-testid="label-choice"
                            on:click=move |_| {
                                labelling.dispatch(LabelTicket { id: ticket.clone(), label, on: true });
                                open.set(false);
                            }>
                            <LabelChip label=l />
                        </button>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="ticket-labels" data-testid="ticket-labels">
            {chips}
            <span class="label-add">
                <button type="button" class="link-button" data-testid="add-label"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| {
                        let now = !open.get_untracked();
                        open.set(now);
                        if now {
                            all.dispatch(());
                        }
                    }>"+ Label"</button>
                <ul class="label-menu" data-testid="label-menu" hidden=move || !open.get()>
                    {move || open.get().then(menu.clone())}
                </ul>
            </span>
            {move || labelling.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        </div>
    }
}
