//! The right pane: the ticket's facts, and the customer: who they are, their
//! tickets, notes about them and Botpress's attributes (`pages::customer`).

use leptos::prelude::*;

use super::super::waited;
use crate::api::inbox::{ConversationData, Status};
use crate::components::avatar::initials;
use crate::components::time::{Shown, Time};
use crate::pages::customer::CustomerProfile;

/// The ticket's facts, in the right pane.
#[component]
pub(super) fn Facts(c: ConversationData, now: Signal<i64>) -> impl IntoView {
    let t = c.ticket.clone();
    let holder = match (t.status, t.mine, t.assignee_name.clone()) {
        (Status::Closed, ..) => match c.closed_reason {
            Some(reason) => format!("Closed ({})", reason.label()),
            None => "Closed".to_owned(),
        },
        (_, true, _) => "You".to_owned(),
        (_, _, Some(name)) => name,
        _ => "Nobody: waiting in the queue".to_owned(),
    };
    let waiting_since = c.waiting_since;
    view! {
        <section class="context-card">
            <h2>"Ticket"</h2>
            <dl class="facts">
                <dt>"Description"</dt><dd>{if c.description.is_empty() { "—".to_owned() } else { c.description.clone() }}</dd>
                <dt>"Bot"</dt><dd>{t.connection.clone()}</dd>
                <dt>"Created"</dt><dd><Time ms=t.created_at shown=Shown::Full /></dd>
                <dt>"Waiting"</dt>
                <dd data-testid="waiting">
                    {move || waiting_since.map_or_else(|| "—".to_owned(), |s| waited(now.get(), s))}
                </dd>
                <dt>"Held by"</dt><dd data-testid="held-by">{holder}</dd>
                <dt>"Closed"</dt>
                <dd>{match t.closed_at {
                    Some(ms) => view! { <Time ms shown=Shown::Full /> }.into_any(),
                    None => "—".into_any(),
                }}</dd>
                <dt>"Ticket id"</dt><dd><code class="ticket-id">{t.id.clone()}</code></dd>
            </dl>
            // Plain downloads (the server answers with an attachment), not routes.
            <p class="export-links">
                "Export: "
                <a href=format!("/api/v1/tickets/{}/transcript?format=text", t.id) download rel="external"
                    data-testid="export-text">"Transcript (.txt)"</a>
                " · "
                <a href=format!("/api/v1/tickets/{}/transcript?format=json", t.id) download rel="external"
                    data-testid="export-json">"JSON"</a>
            </p>
        </section>
    }
}

#[component]
pub(super) fn CustomerPanel(c: ConversationData, loaded: super::Loaded) -> impl IntoView {
    let Some(customer) = c.customer else {
        return view! { <section class="context-card"><h2>"Customer"</h2><p class="muted">"Not known yet."</p></section> }.into_any();
    };
    let name = customer
        .name
        .clone()
        .unwrap_or_else(|| "Unnamed".to_owned());
    view! {
        <section class="context-card customer-panel" data-testid="customer">
            <h2>"Customer"</h2>
            <div class="customer-id">
                // Initials, not the bot's picture URL: a picture from elsewhere would
                // tell its host who opened the ticket.
                <span class="avatar-initials large" aria-hidden="true">{initials(&name)}</span>
                <div>
                    <p class="customer-name">{name.clone()}</p>
                    // The bot says who the customer is; Baton cannot check it, and
                    // tickets with the same email count as one customer's.
                    {customer.email.map(|e| view! {
                        <p>
                            <a href=format!("mailto:{e}")>{e.clone()}</a>
                            <br/><span class="muted unverified" data-testid="email-unverified">"From the bot, not verified"</span>
                        </p>
                    })}
                </div>
            </div>
            // Phone and company, editing, every ticket, notes about the customer and
            // Botpress's attributes: the same tools as the customer page.
            <CustomerProfile loaded=loaded.customer compact=true />
        </section>
    }
    .into_any()
}
