//! One conversation: the middle and right panes of the workspace.
//!
//! The middle pane is a header (the customer, the title, the actions), the
//! transcript, and the composer, always at the bottom. The transcript follows the
//! newest message while the agent is at the bottom, and counts what arrives while
//! they read further up ("2 new messages ↓"). The right pane has the ticket's facts
//! and the customer with their other tickets, and folds away.
//!
//! What the server renders comes from the page's resource, inside `<Transition>`s,
//! so a refetch keeps the old content until the new arrives. The composer and the
//! scrolling are not rebuilt on each refetch (that would drop the agent's focus and
//! scroll position): they read [`Loaded::current`], which the browser keeps, and
//! which is empty on the server and in the first render, so hydration agrees.
//!
//! - `header`: the customer, the title and the actions;
//! - `transcript`: the messages, the unread marker, scrolling;
//! - `composer`: the reply box and attachments;
//! - `labels`: the ticket's labels, to add and remove;
//! - `here`: the colleagues who have the conversation open, and who types;
//! - `details`: the right pane.

mod composer;
mod details;
mod header;
mod here;
mod labels;
mod transcript;

use composer::Composer;
use details::{CustomerPanel, Facts};
use header::{Header, taken_notice};
use transcript::Transcript;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::ticking_now;
use crate::api::inbox::{
    AddNote, Anchor, CloseTicket, Colleague, ConversationData, FIRST_MESSAGES, MarkRead,
    ResendMessage, SendReply, Status, TakeTicket, TransferTicket, colleagues, conversation,
};
use crate::api::labels::LabelTicket;
use crate::components::realtime::use_realtime;
use crate::components::session::{Session, on_signed_out};
use crate::error::AppError;

/// How many more messages "Show earlier messages" adds.
const EARLIER_STEP: u32 = 200;
/// How close to the newest message (in pixels) still counts as "at the bottom".
const BOTTOM_SLACK: i32 = 48;

/// What the page loads, and the actions whose results reload it: created by the
/// route, before anything that renders (see `Guard`).
#[derive(Clone, Copy)]
struct Loaded {
    data: Resource<Result<ConversationData, AppError>>,
    take: ServerAction<TakeTicket>,
    transfer: ServerAction<TransferTicket>,
    close: ServerAction<CloseTicket>,
    reply: ServerAction<SendReply>,
    note: ServerAction<AddNote>,
    resend: ServerAction<ResendMessage>,
    labelling: ServerAction<LabelTicket>,
    /// The *+ Label* menu, kept here so that a refetch does not close it.
    label_menu: RwSignal<bool>,
    uploads: RwSignal<u32>,
    /// How many of the latest messages to show; "Show earlier" raises it, and
    /// refetches keep it.
    latest: RwSignal<u32>,
    /// The latest data that loaded, kept by the browser (never set on the server).
    current: RwSignal<Option<ConversationData>>,
    /// What the agent is typing; survives refetches, cleared for another ticket.
    draft: RwSignal<String>,
    /// Set after a take: the composer takes the focus once it is enabled.
    focus_composer: RwSignal<bool>,
    /// The right pane: `None` lets the screen width decide.
    context_open: RwSignal<Option<bool>>,
    /// The transfer menu's state, kept here so that a refetch (which redraws the
    /// header) does not close the menu under the agent's pointer.
    menu: TransferMenuState,
    /// The customer's details, notes and Botpress attributes (the right pane).
    customer: crate::pages::customer::CustomerLoaded,
    /// Where the unread messages started when this ticket opened (see
    /// `transcript::marker`).
    marker: StoredValue<Option<(String, Option<i64>)>>,
    /// The message or note to open at (a search hit), from the address.
    anchor: Memo<Option<Anchor>>,
}

#[derive(Clone, Copy)]
struct TransferMenuState {
    open: RwSignal<bool>,
    chosen: RwSignal<String>,
    /// An action, not a resource: colleagues load when the menu opens, so their
    /// presence is current.
    people: Action<(), Result<Vec<Colleague>, AppError>>,
}

#[component]
pub fn ConversationPage() -> impl IntoView {
    crate::components::hydration::mark_page_hydrated();
    // The workspace around this route already knows who is signed in.
    let session = use_context::<Session>().unwrap_or_else(Session::load);
    let realtime = use_realtime();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Refetch when an event names this ticket (or after a resync).
    let version = Memo::new(move |previous: Option<&u64>| {
        let changes = realtime.changes.get();
        match previous {
            Some(&p) if !realtime.touches(&id()) => p,
            _ => changes,
        }
    });
    // Colleagues see who has which conversation open (`here`).
    Effect::new(move |_| realtime.viewing(Some(id())));
    on_cleanup(move || realtime.viewing(None));
    let take = ServerAction::<TakeTicket>::new();
    let transfer = ServerAction::<TransferTicket>::new();
    let close = ServerAction::<CloseTicket>::new();
    let reply = ServerAction::<SendReply>::new();
    let note = ServerAction::<AddNote>::new();
    let resend = ServerAction::<ResendMessage>::new();
    let labelling = ServerAction::<LabelTicket>::new();
    let uploads = RwSignal::new(0_u32);
    let latest = RwSignal::new(FIRST_MESSAGES);
    let query = use_query_map();
    let anchor = Memo::new(move |_| {
        let q = query.read();
        Anchor::from_query(q.get("message"), q.get("note"))
    });
    let data = Resource::new(
        move || {
            (
                id(),
                version.get(),
                take.version().get()
                    + transfer.version().get()
                    + close.version().get()
                    + reply.version().get()
                    + note.version().get()
                    + resend.version().get()
                    + labelling.version().get(),
                uploads.get(),
                latest.get(),
                anchor.get(),
            )
        },
        move |(id, _, _, _, latest, anchor)| {
            let (message, note) = Anchor::ids(anchor);
            session.then(conversation(id, Some(latest), message, note))
        },
    );
    let current = RwSignal::new(None::<ConversationData>);
    let customer_id = Signal::derive(move || {
        current.with(|c: &Option<ConversationData>| {
            c.as_ref()
                .and_then(|c| c.customer.as_ref().map(|cu| cu.id.clone()))
                .unwrap_or_default()
        })
    });
    let loaded = Loaded {
        customer: crate::pages::customer::CustomerLoaded::new(session, customer_id),
        data,
        take,
        transfer,
        close,
        reply,
        note,
        resend,
        labelling,
        label_menu: RwSignal::new(false),
        uploads,
        latest,
        current,
        draft: RwSignal::new(String::new()),
        focus_composer: RwSignal::new(false),
        context_open: RwSignal::new(None),
        menu: TransferMenuState {
            open: RwSignal::new(false),
            chosen: RwSignal::new(String::new()),
            people: Action::new(|_: &()| colleagues()),
        },
        marker: StoredValue::new(None),
        anchor,
    };
    view! { <ConversationView loaded /> }
}

/// Whether the agent may write, and if not, why (in words for them).
#[derive(Debug, Clone, PartialEq, Eq)]
enum CanWrite {
    /// Not known yet (the server's HTML, and until the data arrives).
    Unknown,
    Yes,
    No(String),
}

fn can_write(c: &ConversationData) -> CanWrite {
    let t = &c.ticket;
    if t.status == Status::Closed {
        CanWrite::No("This conversation is closed.".to_owned())
    } else if t.mine {
        CanWrite::Yes
    } else if let Some(holder) = &t.assignee_name {
        CanWrite::No(format!(
            "{holder} holds this conversation. Take it over to reply."
        ))
    } else {
        CanWrite::No("Take this ticket to reply: the bot answers until someone does.".to_owned())
    }
}

#[component]
fn ConversationView(loaded: Loaded) -> impl IntoView {
    let Loaded {
        data,
        take,
        transfer,
        close,
        resend,
        current,
        draft,
        focus_composer,
        context_open,
        menu,
        ..
    } = loaded;
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let read = ServerAction::<MarkRead>::new();
    on_signed_out(move || data.get());
    // The browser keeps the last good data (see the module comment).
    Effect::new(move |_| {
        if let Some(Ok(c)) = data.get() {
            current.set(Some(c));
        }
    });
    // Another ticket: its own draft, nothing stale.
    Effect::new(move |previous: Option<String>| {
        let now = id.get();
        if previous.is_some_and(|p| p != now) {
            draft.set(String::new());
            current.set(None);
            menu.open.set(false);
            menu.chosen.set(String::new());
        }
        now
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = transfer.value().get() {
            menu.open.set(false);
            menu.chosen.set(String::new());
        }
    });
    // Reading the page marks it read (on every device), and keeps it read while open;
    // that also sees the notes that mention the viewer here.
    Effect::new(move |_| {
        if let Some(Ok(c)) = data.get()
            && (c.ticket.unread > 0 || c.mentioned)
        {
            read.dispatch(MarkRead {
                id: c.ticket.id.clone(),
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = take.value().get() {
            focus_composer.set(true);
        }
    });
    let notice = taken_notice(current, transfer);
    let action_error = move || {
        [
            take.value().get().and_then(Result::err),
            transfer.value().get().and_then(Result::err),
            close.value().get().and_then(Result::err),
            resend.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let now = ticking_now(move || data.get().and_then(Result::ok).map(|c| c.now));
    let query = use_query_map();
    let back = move || {
        let view = query.read().get("view").unwrap_or_default();
        if view.is_empty() {
            "/inbox".to_owned()
        } else {
            format!("/inbox?view={view}")
        }
    };
    let area_class = move || match context_open.get() {
        None => "conversation-area",
        Some(true) => "conversation-area context-open",
        Some(false) => "conversation-area context-closed",
    };

    let header = view! {
        <Transition fallback=|| view! { <div class="conv-head skeleton-line wide"></div> }>
            {move || {
                data.get()
                    .map(|result| match result {
                        Err(AppError::NotFound(_)) => {
                            crate::components::not_found_status();
                            view! {
                                <div class="not-found">
                                    <h1>"No such conversation"</h1>
                                    <p class="muted">"It may have been mistyped, or it belongs to another Baton."</p>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(c) => view! { <Header c loaded /> }.into_any(),
                    })
            }}
        </Transition>
    }
    .into_any();
    let side = view! {
        <Transition fallback=|| view! { <div class="skeleton-line"></div> }>
            {move || {
                data.get()
                    .map(|result| {
                        result
                            .ok()
                            .map(|c| {
                                view! {
                                    <Facts c=c.clone() now />
                                    <CustomerPanel c loaded />
                                }
                            })
                    })
            }}
        </Transition>
    }
    .into_any();

    view! {
        <div class=area_class data-testid="conversation-area">
            <section class="pane-conversation" data-testid="conversation-pane" aria-label="Conversation">
                <a class="back-link" href=back data-testid="back-to-list">"← Conversations"</a>
                {header}
                {move || action_error().map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                {move || notice.get().map(|n| view! { <p class="notice" role="status" data-testid="taken-notice">{n}</p> })}
                <Transcript loaded />
                {move || {
                    let id = id.get();
                    view! { <Composer id loaded /> }
                }}
            </section>
            <aside class="pane-context" id="context-pane" data-testid="context-pane" aria-label="Details">
                <button class="button secondary small context-back" on:click=move |_| context_open.set(Some(false))>
                    "← Back to the conversation"
                </button>
                {side}
            </aside>
        </div>
    }
}

/// Whether the right pane shows, when the agent has not chosen: on wide screens.
fn context_shown(choice: Option<bool>) -> bool {
    choice.unwrap_or_else(wide_screen)
}

/// At least 1,100 px wide, where the stylesheet shows the right pane by default.
fn wide_screen() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w >= 1100.0)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        true
    }
}
