//! The middle pane's header: the customer, the title, the state, and the actions
//! (take, transfer, close), with the notice when a colleague took the ticket.

use leptos::prelude::*;

use super::labels::TicketLabels;
use super::{Loaded, TransferMenuState, context_shown};
use crate::api::inbox::{CloseTicket, ConversationData, Status, TakeTicket, TransferTicket};
use crate::components::avatar::initials;

/// "Bo took over this conversation": said to the agent who held the open ticket
/// when someone else takes it (a transfer they made themselves says nothing).
pub(super) fn taken_notice(
    current: RwSignal<Option<ConversationData>>,
    transfer: ServerAction<TransferTicket>,
) -> RwSignal<Option<String>> {
    let notice = RwSignal::new(None::<String>);
    let transferring = StoredValue::new(false);
    Effect::new(move |_| {
        if transfer.pending().get() {
            transferring.set_value(true);
        }
    });
    Effect::new(move |previous: Option<Option<(String, bool)>>| {
        let (ticket, mine, holder, closed) = current.with(|c| {
            c.as_ref().map(|c| {
                (
                    c.ticket.id.clone(),
                    c.ticket.mine,
                    c.ticket.assignee_name.clone(),
                    c.ticket.status == Status::Closed,
                )
            })
        })?;
        match previous.flatten() {
            Some((before, was_mine)) if before == ticket => {
                if was_mine && !mine {
                    if transferring.get_value() {
                        transferring.set_value(false);
                    } else if !closed {
                        notice.set(Some(match holder {
                            Some(h) => format!(
                                "{h} took over this conversation. You can no longer reply here."
                            ),
                            None => "This conversation went back to the queue.".to_owned(),
                        }));
                    }
                } else if mine {
                    notice.set(None);
                }
            }
            _ => notice.set(None),
        }
        Some((ticket, mine))
    });
    notice
}

/// The middle pane's header: who, what, and the actions.
#[component]
pub(super) fn Header(c: ConversationData, loaded: Loaded) -> impl IntoView {
    let Loaded {
        take,
        transfer,
        close,
        menu,
        context_open,
        ..
    } = loaded;
    let t = c.ticket.clone();
    let id = t.id.clone();
    let open = t.status != Status::Closed;
    let title = if t.title.trim().is_empty() {
        "(no title)".to_owned()
    } else {
        t.title.clone()
    };
    let customer = c
        .customer
        .as_ref()
        .and_then(|cu| cu.name.clone().or_else(|| cu.email.clone()))
        .unwrap_or_else(|| "Unknown customer".to_owned());
    let status = match (t.status, t.mine, t.assignee_name.clone()) {
        (Status::Closed, ..) => "Closed".to_owned(),
        (_, true, _) => "Yours".to_owned(),
        (_, _, Some(name)) => format!("Held by {name}"),
        _ => "Queued".to_owned(),
    };
    let holder = t.assignee_name.clone().filter(|_| !t.mine);
    let (id_take, id_close, id_transfer) = (id.clone(), id.clone(), id.clone());
    let take_label = match &holder {
        Some(name) => format!("Take over from {name}"),
        None => "Take over".to_owned(),
    };
    let confirm_take = holder.clone().map(|name| {
        format!(
            "{name} is working on this conversation. Take it over? {name} will see that you did."
        )
    });
    // A colleague's ticket, for an agent: the actions show, off, with the reason.
    let managed = c.can_manage;
    let held_note = holder.clone().filter(|_| open && !managed).map(|name| {
        format!(
            "Held by {name}: only {name} or an admin can take it over, transfer it or close it."
        )
    });
    view! {
        <header class="conv-head">
            <span class="avatar-initials large" aria-hidden="true">{initials(&customer)}</span>
            <div class="conv-title">
                <h1 data-testid="ticket-title">{title}</h1>
                <p class="conv-sub">
                    <span class="conv-customer">{customer}</span>
                    " · "
                    <span class=format!("ticket-state {}", t.status.as_str()) data-testid="ticket-status">{status}</span>
                </p>
                {crate::pages::inbox::handoff_chips(t.priority, t.team.clone())}
                <TicketLabels c=c.clone() loaded />
                <super::here::AlsoHere />
            </div>
            <div class="conv-actions">
                {(open && !t.mine && managed).then(|| view! {
                    <button class="button" data-testid="take" disabled=move || take.pending().get()
                        on:click=move |_| {
                            let go = confirm_take.as_deref().is_none_or(crate::components::confirm);
                            if go {
                                take.dispatch(TakeTicket { id: id_take.clone() });
                            }
                        }>
                        {take_label.clone()}
                    </button>
                })}
                {(open && managed).then(|| view! { <TransferMenu id=id_transfer.clone() transfer menu /> })}
                {(open && !managed).then(|| view! {
                    <button class="button" data-testid="take" disabled aria-describedby="held-note">{take_label}</button>
                    <button class="button secondary" data-testid="open-transfer" disabled aria-describedby="held-note">"Transfer…"</button>
                    <button class="button danger" data-testid="close" disabled aria-describedby="held-note">"Hand back to bot & close"</button>
                })}
                {(open && managed).then(|| view! {
                    <button class="button danger" data-testid="close" disabled=move || close.pending().get()
                        on:click=move |_| {
                            if crate::components::confirm("Hand this conversation back to the bot and close the ticket?") {
                                close.dispatch(CloseTicket { id: id_close.clone() });
                            }
                        }>
                        "Hand back to bot & close"
                    </button>
                })}
                <button
                    class="button secondary"
                    data-testid="toggle-context"
                    aria-controls="context-pane"
                    on:click=move |_| {
                        let shown = context_shown(context_open.get_untracked());
                        context_open.set(Some(!shown));
                    }
                >
                    "Details"
                </button>
            </div>
            {held_note.map(|note| view! { <p id="held-note" class="held-note" data-testid="held-note">{note}</p> })}
        </header>
    }
}

#[component]
fn TransferMenu(
    id: String,
    transfer: ServerAction<TransferTicket>,
    menu: TransferMenuState,
) -> impl IntoView {
    // The whole <select> renders at once: the HTML parser drops the markers a
    // reactive region would leave inside a <select>, which breaks hydration.
    let TransferMenuState {
        open,
        chosen,
        people,
    } = menu;
    let menu = move || {
        let list = people
            .value()
            .get()
            .and_then(Result::ok)
            .unwrap_or_default();
        let options = list
            .into_iter()
            .map(|p| {
                let dot = match p.presence.as_str() {
                    "online" => "●",
                    "away" => "◐",
                    _ => "○",
                };
                let label = format!("{dot} {} ({})", p.name, p.presence);
                // Redrawn after a refetch: keep what the agent picked.
                let picked = chosen.with_untracked(|c| *c == p.id);
                view! { <option value=p.id selected=picked>{label}</option> }
            })
            .collect::<Vec<_>>();
        view! {
            <select
                aria-label="Transfer to"
                data-testid="transfer-to"
                on:change=move |e| chosen.set(event_target_value(&e))
            >
                <option value="">"Transfer to…"</option>
                {options}
            </select>
        }
    };
    view! {
        <span class="transfer">
            <button
                class="button secondary"
                data-testid="open-transfer"
                hidden=move || open.get()
                on:click=move |_| {
                    open.set(true);
                    people.dispatch(());
                }
            >
                "Transfer…"
            </button>
            {move || open.get().then(menu)}
            <button
                class="button secondary"
                data-testid="transfer"
                hidden=move || !open.get()
                disabled=move || chosen.get().is_empty() || transfer.pending().get()
                on:click=move |_| {
                    transfer.dispatch(TransferTicket { id: id.clone(), agent: chosen.get_untracked() });
                }
            >
                "Transfer"
            </button>
            <button
                class="button secondary"
                hidden=move || !open.get()
                on:click=move |_| {
                    open.set(false);
                    chosen.set(String::new());
                }
            >
                "Cancel"
            </button>
        </span>
    }
}
