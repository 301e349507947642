//! The customer's details, tickets, notes and Botpress attributes: the whole page
//! at `/customers/cus_…`, and a compact form in the conversation's right pane.
//! Both refetch when a colleague changes the customer (a realtime event names them).

use leptos::prelude::*;

use crate::api::customers::{
    AddCustomerNote, BotpressAttributes, CustomerData, Status, UpdateCustomer, ask_botpress,
    customer,
};
use crate::components::realtime::use_realtime;
use crate::components::session::{Session, on_signed_out};
use crate::components::time::{Shown, Time};
use crate::error::AppError;

/// Tickets the right pane lists before "all tickets".
const PANE_TICKETS: usize = 5;

/// What the profile loads and the actions that change it; created by the page (or
/// the conversation), outside anything that re-renders.
#[derive(Clone, Copy)]
pub struct CustomerLoaded {
    id: Signal<String>,
    data: Resource<Result<Option<CustomerData>, AppError>>,
    update: ServerAction<UpdateCustomer>,
    note: ServerAction<AddCustomerNote>,
    botpress: Action<String, Result<BotpressAttributes, AppError>>,
    editing: RwSignal<bool>,
    draft: RwSignal<String>,
}

impl CustomerLoaded {
    /// `id` may be empty (a ticket whose customer is not known yet): nothing loads.
    pub fn new(session: Session, id: Signal<String>) -> Self {
        let realtime = use_realtime();
        let version = Memo::new(move |previous: Option<&u64>| {
            let changes = realtime.changes.get();
            match previous {
                Some(&p) if !id.with(|id| realtime.touches(id)) => p,
                _ => changes,
            }
        });
        let update = ServerAction::<UpdateCustomer>::new();
        let note = ServerAction::<AddCustomerNote>::new();
        let data = Resource::new(
            move || {
                (
                    id.get(),
                    version.get(),
                    update.version().get() + note.version().get(),
                )
            },
            move |(id, _, _)| async move {
                if id.is_empty() {
                    return Ok(None);
                }
                session.then(customer(id)).await.map(Some)
            },
        );
        let loaded = Self {
            id,
            data,
            update,
            note,
            botpress: Action::new(|id: &String| ask_botpress(id.clone())),
            editing: RwSignal::new(false),
            draft: RwSignal::new(String::new()),
        };
        on_signed_out(move || update.value().get());
        on_signed_out(move || note.value().get());
        // Saved: the form closes (a refused save keeps it open, with the reason).
        Effect::new(move |_| {
            if let Some(Ok(())) = update.value().get() {
                loaded.editing.set(false);
            }
        });
        Effect::new(move |_| {
            if let Some(Ok(())) = note.value().get() {
                loaded.draft.set(String::new());
            }
        });
        loaded
    }
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Queued => "queued",
        Status::Assigned => "assigned",
        Status::Closed => "closed",
    }
}

#[component]
pub fn CustomerProfile(loaded: CustomerLoaded, compact: bool) -> impl IntoView {
    let data = loaded.data;
    view! {
        <Transition fallback=|| view! { <p class="muted" role="status">"Loading the customer…"</p> }>
            {move || data.get().map(|result| match result {
                Err(AppError::NotFound(_)) => {
                    crate::components::not_found_status();
                    view! {
                        <div class="not-found">
                            <h1>"No such customer"</h1>
                            <p class="muted">"The address may have been mistyped."</p>
                        </div>
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Ok(None) => ().into_any(),
                Ok(Some(c)) => view! { <Profile c loaded compact /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Profile(c: CustomerData, loaded: CustomerLoaded, compact: bool) -> impl IntoView {
    let who = c
        .customer
        .name
        .clone()
        .unwrap_or_else(|| "Unnamed customer".to_owned());
    let page = format!("/customers/{}", c.customer.id);
    let total = c.tickets.len();
    let tickets: Vec<_> = if compact {
        c.tickets.iter().take(PANE_TICKETS).cloned().collect()
    } else {
        c.tickets.clone()
    };
    view! {
        <div class="customer-profile" data-testid="customer-profile">
            {(!compact).then(|| view! {
                <h1 data-testid="customer-name">{who.clone()}</h1>
            })}
            <Details c=c.clone() loaded compact />
            <h3>{format!("Tickets ({total})")}</h3>
            <ul class="plain customer-tickets" data-testid="customer-tickets">
                {tickets.into_iter().map(|t| view! {
                    <li data-testid="customer-ticket">
                        <a href=format!("/inbox/{}", t.id)>{if t.title.is_empty() { "(no title)".to_owned() } else { t.title }}</a>
                        " "<span class=format!("ticket-state {}", t.status.as_str())>{status_text(t.status)}</span>
                        <br/><span class="muted">"Opened "<Time ms=t.created_at shown=Shown::Full />
                        {t.closed_at.map(|at| view! { ", closed "<Time ms=at shown=Shown::Full /> })}
                        {t.agent.map(|a| format!(" · {a}"))}</span>
                    </li>
                }).collect_view()}
            </ul>
            {(compact && total > PANE_TICKETS).then(|| view! {
                <p><a href=page.clone()>{format!("All {total} tickets")}</a></p>
            })}
            <Notes c=c.clone() loaded />
            <Botpress linked=c.botpress_linked loaded />
            {compact.then(|| view! {
                <p><a href=page data-testid="customer-page-link">"Open the customer page"</a></p>
            })}
        </div>
    }
}

/// The details, and the form that edits them.
#[component]
fn Details(c: CustomerData, loaded: CustomerLoaded, compact: bool) -> impl IntoView {
    let CustomerLoaded {
        id,
        update,
        editing,
        ..
    } = loaded;
    let d = c.customer;
    // The form's starting values, for each time it opens.
    let (name, phone, company) = (
        StoredValue::new(d.name.clone().unwrap_or_default()),
        StoredValue::new(d.phone.clone().unwrap_or_default()),
        StoredValue::new(d.company.clone().unwrap_or_default()),
    );
    let facts = view! {
        <dl class="facts customer-facts" data-testid="customer-facts">
            {(!compact).then(|| view! {
                <dt>"Email"</dt>
                <dd>{d.email.clone().unwrap_or_else(|| "—".into())}
                    {d.email.is_some().then(|| view! { " " <span class="muted unverified">"(from the bot, not verified)"</span> })}
                </dd>
            })}
            <dt>"Phone"</dt><dd data-testid="customer-phone">{d.phone.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Company"</dt><dd data-testid="customer-company">{d.company.clone().unwrap_or_else(|| "—".into())}</dd>
            {(!compact).then(|| view! {
                <dt>"Bot"</dt><dd>{d.connection.clone()}</dd>
                <dt>"First seen"</dt><dd><Time ms=d.created_at shown=Shown::Full /></dd>
            })}
        </dl>
    };
    view! {
        {facts}
        <Show when=move || editing.get() fallback=move || view! {
            <button type="button" class="button secondary small" data-testid="edit-customer"
                on:click=move |_| editing.set(true)>"Edit details"</button>
        }>
            <ActionForm action=update attr:class="customer-edit" attr:data-testid="customer-edit">
                <input type="hidden" name="id" value=move || id.get() />
                <label>"Name"<input name="name" maxlength="200" value=name.get_value() /></label>
                <label>"Phone"<input name="phone" type="tel" maxlength="40" value=phone.get_value() /></label>
                <label>"Company"<input name="company" maxlength="200" value=company.get_value() /></label>
                <div class="actions">
                    <button type="submit" class="button small" disabled=move || update.pending().get()>"Save"</button>
                    <button type="button" class="button secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
                {move || update.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            </ActionForm>
        </Show>
    }
}

/// Notes about the customer (not one ticket): every ticket of theirs shows them.
#[component]
fn Notes(c: CustomerData, loaded: CustomerLoaded) -> impl IntoView {
    let CustomerLoaded {
        id, note, draft, ..
    } = loaded;
    view! {
        <h3>"Notes about this customer"</h3>
        {if c.notes.is_empty() {
            view! { <p class="muted">"None yet."</p> }.into_any()
        } else {
            view! {
                <ul class="plain customer-notes" data-testid="customer-notes">
                    {c.notes.into_iter().map(|n| view! {
                        <li class="note" data-testid="customer-note">
                            <p class="note-head"><span class="note-author">{n.author}</span>" · "<Time ms=n.at /></p>
                            <p class="note-text">{n.text}</p>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <ActionForm action=note attr:class="customer-note-form">
            <input type="hidden" name="id" value=move || id.get() />
            <label class="visually-hidden" for="customer-note-text">"Note about this customer"</label>
            <textarea id="customer-note-text" name="text" rows="2" maxlength="5000" data-testid="customer-note-text"
                placeholder="A note every ticket of this customer shows"
                prop:value=move || draft.get() on:input=move |e| draft.set(event_target_value(&e))></textarea>
            <button type="submit" class="button secondary small" data-testid="add-customer-note"
                disabled=move || note.pending().get()>"Add note"</button>
            {move || note.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        </ActionForm>
    }
}

/// What Botpress knows about the person: their user's tags, asked for when an agent
/// wants them (each look is a call to Botpress).
#[component]
fn Botpress(linked: bool, loaded: CustomerLoaded) -> impl IntoView {
    let CustomerLoaded { id, botpress, .. } = loaded;
    if !linked {
        return view! {
            <p class="muted small-print">
                "An admin can add the bot's Botpress API credentials to see what Botpress knows about this customer."
            </p>
        }
        .into_any();
    }
    view! {
        <h3>"In Botpress"</h3>
        <button type="button" class="button secondary small" data-testid="botpress-attributes"
            disabled=move || botpress.pending().get()
            on:click=move |_| { botpress.dispatch(id.get_untracked()); }>
            {move || if botpress.pending().get() { "Asking Botpress…" } else { "Show Botpress attributes" }}
        </button>
        {move || botpress.value().get().map(|result| match result {
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            Ok(user) => view! {
                <dl class="facts botpress-tags" data-testid="botpress-tags">
                    <dt>"User"</dt><dd><code>{user.user_id}</code></dd>
                    {user.name.map(|n| view! { <dt>"Name"</dt><dd>{n}</dd> })}
                    {user.tags.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            }.into_any(),
        })}
    }
    .into_any()
}
