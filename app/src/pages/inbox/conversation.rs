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

use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{ticking_now, waited};
use crate::api::inbox::{
    ActivityLine, CloseTicket, Colleague, ConversationData, FIRST_MESSAGES, MarkRead, Origin,
    ResendMessage, SendReply, Status, TakeTicket, TransferTicket, colleagues, conversation,
};
use crate::components::avatar::initials;
use crate::components::message::MessageItem;
use crate::components::realtime::use_realtime;
use crate::components::session::{Session, on_signed_out};
use crate::components::time::{Shown, Time};
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
    resend: ServerAction<ResendMessage>,
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
    /// Where the unread messages started when this ticket opened (see [`marker`]).
    marker: StoredValue<Option<(String, Option<i64>)>>,
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
    let take = ServerAction::<TakeTicket>::new();
    let transfer = ServerAction::<TransferTicket>::new();
    let close = ServerAction::<CloseTicket>::new();
    let reply = ServerAction::<SendReply>::new();
    let resend = ServerAction::<ResendMessage>::new();
    let uploads = RwSignal::new(0_u32);
    let latest = RwSignal::new(FIRST_MESSAGES);
    let data = Resource::new(
        move || {
            (
                id(),
                version.get(),
                take.version().get()
                    + transfer.version().get()
                    + close.version().get()
                    + reply.version().get()
                    + resend.version().get(),
                uploads.get(),
                latest.get(),
            )
        },
        move |(id, _, _, _, latest)| session.then(conversation(id, Some(latest))),
    );
    let loaded = Loaded {
        data,
        take,
        transfer,
        close,
        reply,
        resend,
        uploads,
        latest,
        current: RwSignal::new(None),
        draft: RwSignal::new(String::new()),
        focus_composer: RwSignal::new(false),
        context_open: RwSignal::new(None),
        menu: TransferMenuState {
            open: RwSignal::new(false),
            chosen: RwSignal::new(String::new()),
            people: Action::new(|_: &()| colleagues()),
        },
        marker: StoredValue::new(None),
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
    // Reading the page marks it read (on every device), and keeps it read while open.
    Effect::new(move |_| {
        if let Some(Ok(c)) = data.get()
            && c.ticket.unread > 0
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
                            not_found_status();
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
                                    <CustomerPanel c />
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

fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// "Bo took over this conversation": said to the agent who held the open ticket
/// when someone else takes it (a transfer they made themselves says nothing).
fn taken_notice(
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
fn Header(c: ConversationData, loaded: Loaded) -> impl IntoView {
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

/// The messages, in a scroll box that follows the newest one.
#[component]
fn Transcript(loaded: Loaded) -> impl IntoView {
    let Loaded {
        data,
        resend,
        latest,
        current,
        marker: keep,
        ..
    } = loaded;
    let scroller = NodeRef::<html::Div>::new();
    // The box lays out bottom-up (`column-reverse`), so it opens at the newest
    // message and stays there as messages arrive, even before the wasm loads.
    // There, `scrollTop` is 0 at the bottom and negative above it.
    let at_bottom = StoredValue::new(true);
    let height = StoredValue::new(0_i32);
    let unseen = RwSignal::new(0_usize);
    let to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
            height.set_value(el.scroll_height());
        }
        at_bottom.set_value(true);
        unseen.set(0);
    };
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let bottom = el.scroll_top() > -BOTTOM_SLACK;
            at_bottom.set_value(bottom);
            height.set_value(el.scroll_height());
            if bottom {
                unseen.set(0);
            }
        }
    };
    // After each change: follow the newest, or keep the agent's place and count.
    Effect::new(move |previous: Option<(String, i64, i64)>| {
        let Some((ticket, last, total, newest_is_agent)) = current.with(|c| {
            c.as_ref().map(|c| {
                (
                    c.ticket.id.clone(),
                    c.messages.last().map_or(0, |m| m.id),
                    c.messages.len() as i64 + c.earlier,
                    c.messages.last().is_some_and(|m| m.origin == Origin::Agent),
                )
            })
        }) else {
            return previous.unwrap_or_default();
        };
        match &previous {
            Some((before, last_before, total_before)) if *before == ticket => {
                if last != *last_before {
                    if at_bottom.get_value() || newest_is_agent {
                        request_animation_frame(to_bottom);
                    } else {
                        let fresh = (total - total_before).max(1) as usize;
                        unseen.update(|n| *n += fresh);
                        // Keep what the agent reads where it was.
                        request_animation_frame(move || {
                            if let Some(el) = scroller.get_untracked() {
                                let grown = el.scroll_height() - height.get_value();
                                el.set_scroll_top(el.scroll_top() - grown.max(0));
                                height.set_value(el.scroll_height());
                            }
                        });
                    }
                }
            }
            _ => {
                // Opening a ticket: at the newest message, or, when the unread ones
                // do not all fit, at the first of them, with the pill counting them.
                let unread = current.with_untracked(|c| {
                    let at = c.as_ref().and_then(|c| marker(keep, c));
                    c.as_ref().map_or(0, |c| {
                        c.messages
                            .iter()
                            .filter(|m| {
                                at.is_some_and(|at| m.id >= at) && m.origin == Origin::Customer
                            })
                            .count()
                    })
                });
                request_animation_frame(to_bottom);
                if unread > 0 {
                    open_at_marker(scroller, at_bottom, unseen, unread, MARKER_FRAMES);
                }
            }
        }
        (ticket, last, total)
    });
    let on_resend = Callback::new(move |message: i64| {
        resend.dispatch(ResendMessage { message });
    });
    view! {
        <div class="transcript-wrap">
        <div class="transcript-scroll" data-testid="transcript-scroll" node_ref=scroller on:scroll=on_scroll>
            <div class="transcript-inner">
                <Transition fallback=|| view! { <TranscriptSkeleton /> }>
                    {move || {
                        data.get()
                            .map(|result| {
                                result
                                    .ok()
                                    .map(|c| {
                                        let mine = c.ticket.mine && c.ticket.status != Status::Closed;
                                        let customer = c
                                            .customer
                                            .as_ref()
                                            .and_then(|cu| cu.name.clone().or_else(|| cu.email.clone()))
                                            .unwrap_or_else(|| "Customer".to_owned());
                                        let earlier = c.earlier;
                                        let count = c.messages.len();
                                        let unread_at = marker(keep, &c);
                                        view! {
                                            {(earlier > 0).then(|| view! {
                                                <button class="button secondary earlier" data-testid="show-earlier"
                                                    on:click=move |_| latest.update(|n| *n += EARLIER_STEP)>
                                                    {format!("Show earlier messages ({earlier} more)")}
                                                </button>
                                            })}
                                            <ol class="transcript-list" data-testid="transcript" data-count=count>
                                                {interleave(group(c.messages), c.activity)
                                                    .into_iter()
                                                    .map(|item| match item {
                                                        Item::Message(m, first) => {
                                                            let new = (Some(m.id) == unread_at).then(|| view! {
                                                                <li class="unread-marker" data-testid="unread-marker"><span>"New messages"</span></li>
                                                            });
                                                            view! { {new} <MessageItem message=m on_resend can_resend=mine first customer=customer.clone() /> }
                                                                .into_any()
                                                        }
                                                        Item::Activity(a) => view! {
                                                            <li class="activity" data-testid="activity">
                                                                {a.text}" · "<Time ms=a.at />
                                                            </li>
                                                        }
                                                            .into_any(),
                                                    })
                                                    .collect_view()}
                                            </ol>
                                        }
                                    })
                            })
                    }}
                </Transition>
            </div>
        </div>
        {move || {
            let n = unseen.get();
            (n > 0)
                .then(|| {
                    view! {
                        <button class="new-messages" data-testid="new-messages" on:click=move |_| to_bottom()>
                            {if n == 1 { "1 new message ↓".to_owned() } else { format!("{n} new messages ↓") }}
                        </button>
                    }
                })
        }}
        </div>
    }
}

/// How many frames opening a ticket waits for the marker to be drawn: the data can
/// arrive a frame or two before the transcript that shows it.
const MARKER_FRAMES: u32 = 30;

/// Where the "New messages" marker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// The server never scrolls (see `scroll_to_marker`), so there only one is built.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Marker {
    /// Not drawn yet.
    Missing,
    /// On screen with the newest message: nothing to do.
    InView,
    /// It was above what shows, and is now at the top.
    Scrolled,
}

/// Opens the transcript at the marker once it is drawn, and counts the unread below.
fn open_at_marker(
    scroller: NodeRef<html::Div>,
    at_bottom: StoredValue<bool>,
    unseen: RwSignal<usize>,
    unread: usize,
    frames: u32,
) {
    request_animation_frame(move || match scroll_to_marker(scroller) {
        Marker::Scrolled => {
            at_bottom.set_value(false);
            unseen.set(unread);
        }
        Marker::Missing if frames > 0 => {
            open_at_marker(scroller, at_bottom, unseen, unread, frames - 1);
        }
        Marker::Missing | Marker::InView => {}
    });
}

/// Brings the "New messages" marker to the top of the transcript when it lies above
/// what shows. Only the browser scrolls (the server's web-sys has no layout types).
#[cfg(not(feature = "hydrate"))]
fn scroll_to_marker(_scroller: NodeRef<html::Div>) -> Marker {
    Marker::InView
}

#[cfg(feature = "hydrate")]
fn scroll_to_marker(scroller: NodeRef<html::Div>) -> Marker {
    let Some(el) = scroller.get_untracked() else {
        return Marker::Missing;
    };
    let Ok(Some(marker)) = el.query_selector(".unread-marker") else {
        return Marker::Missing;
    };
    let above = marker.get_bounding_client_rect().top() - el.get_bounding_client_rect().top();
    if above >= 0.0 {
        return Marker::InView;
    }
    // A little of the message before stays in sight, for context.
    el.set_scroll_top(el.scroll_top() + above as i32 - 24);
    Marker::Scrolled
}

/// Marks the first message of each run by one author, which carries the name and
/// avatar; the rest of the run sits under it.
fn group(
    messages: Vec<crate::api::inbox::MessageView>,
) -> Vec<(crate::api::inbox::MessageView, bool)> {
    let mut out = Vec::with_capacity(messages.len());
    let mut previous: Option<(Origin, Option<String>, i64)> = None;
    for m in messages {
        let key = (m.origin, m.author_name.clone());
        // A pause of five minutes starts a new run too.
        let first = previous
            .as_ref()
            .is_none_or(|(o, a, at)| (o, a) != (&key.0, &key.1) || m.at - at > 5 * 60_000);
        previous = Some((key.0, key.1, m.at));
        out.push((m, first));
    }
    out
}

/// One line of the transcript.
enum Item {
    /// A message, and whether it starts a run by its author.
    Message(crate::api::inbox::MessageView, bool),
    Activity(ActivityLine),
}

/// Messages and activity lines in time order (both lists are oldest first).
fn interleave(
    messages: Vec<(crate::api::inbox::MessageView, bool)>,
    activity: Vec<ActivityLine>,
) -> Vec<Item> {
    let mut activity = activity.into_iter().peekable();
    let mut out = Vec::with_capacity(messages.len());
    for (m, first) in messages {
        while let Some(a) = activity.next_if(|a| a.at <= m.at) {
            out.push(Item::Activity(a));
        }
        out.push(Item::Message(m, first));
    }
    out.extend(activity.map(Item::Activity));
    out
}

/// The first message the viewer had not read when they opened the ticket, which
/// the transcript marks ("New messages") and opens at. Only for a ticket they have
/// read before: on a first visit everything is new and a marker says nothing.
/// Like the unread badge, only the customer's messages count.
fn first_unread(c: &ConversationData) -> Option<i64> {
    let read = c.read_up_to?;
    let seen_before = c.earlier > 0 || c.messages.first().is_some_and(|m| m.id <= read);
    if !seen_before {
        return None;
    }
    c.messages
        .iter()
        .find(|m| m.id > read && m.origin == Origin::Customer)
        .map(|m| m.id)
}

/// [`first_unread`] as it was when the ticket opened. Reading marks the ticket read
/// and reloads it; the marker must stay where it was while the agent reads on. The
/// server and the hydrating browser start from the same data, so they agree.
fn marker(keep: StoredValue<Option<(String, Option<i64>)>>, c: &ConversationData) -> Option<i64> {
    if let Some((ticket, at)) = keep.get_value()
        && ticket == c.ticket.id
    {
        return at;
    }
    let at = first_unread(c);
    keep.set_value(Some((c.ticket.id.clone(), at)));
    at
}

#[component]
fn TranscriptSkeleton() -> impl IntoView {
    view! {
        <div class="skeleton" role="status">
            <span class="visually-hidden">"Loading messages…"</span>
            <div class="skeleton-bubble"></div>
            <div class="skeleton-bubble right"></div>
            <div class="skeleton-bubble"></div>
        </div>
    }
}

/// The ticket's facts, in the right pane.
#[component]
fn Facts(c: ConversationData, now: Signal<i64>) -> impl IntoView {
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
        </section>
    }
}

#[component]
fn CustomerPanel(c: ConversationData) -> impl IntoView {
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
            <h3>"Other tickets"</h3>
            {if customer.others.is_empty() {
                view! { <p class="muted">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {customer.others.into_iter().map(|o| view! {
                            <li>
                                <a href=format!("/inbox/{}", o.id)>{if o.title.is_empty() { "(no title)".to_owned() } else { o.title }}</a>
                                " " <span class="muted">{o.status.as_str()} ", " <Time ms=o.created_at shown=Shown::Full /></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
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

#[component]
fn Composer(id: String, loaded: Loaded) -> impl IntoView {
    let Loaded {
        reply,
        uploads,
        current,
        draft,
        focus_composer,
        ..
    } = loaded;
    let text = draft;
    let upload_error = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    let state =
        Memo::new(move |_| current.with(|c| c.as_ref().map_or(CanWrite::Unknown, can_write)));
    let disabled = move || state.get() != CanWrite::Yes;
    let reason = move || match state.get() {
        CanWrite::No(r) => Some(r),
        _ => None,
    };
    let field = NodeRef::<html::Textarea>::new();
    // After a take, the agent's next act is to write.
    Effect::new(move |_| {
        if focus_composer.get() && state.get() == CanWrite::Yes {
            focus_composer.set(false);
            if let Some(el) = field.get_untracked() {
                let _ = el.focus();
            }
        }
    });
    let send_id = id.clone();
    let send = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        reply.dispatch(SendReply {
            id: send_id.clone(),
            text: body,
        });
        text.set(String::new());
    };
    let send_key = send.clone();
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        // Enter sends; Shift+Enter is a new line (and IME composition is left alone).
        if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
            e.prevent_default();
            send_key();
        }
    };
    let on_file = move |e: leptos::ev::Event| {
        upload_error.set(None);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let id = id.clone();
            uploading.set(true);
            leptos::task::spawn_local(async move {
                match upload(&id, &file).await {
                    Ok(()) => uploads.update(|n| *n += 1),
                    Err(message) => upload_error.set(Some(message)),
                }
                uploading.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (e, &id, uploads);
    };
    let view = view! {
        <div class="composer">
            <p class="muted composer-reason" data-testid="composer-reason" hidden=move || reason().is_none()>
                {reason}
            </p>
            <label class="visually-hidden" for="composer-text">"Reply"</label>
            <textarea
                id="composer-text"
                data-testid="composer"
                rows="3"
                node_ref=field
                placeholder="Write a reply. Enter sends, Shift+Enter adds a line."
                disabled=disabled
                prop:value=move || text.get()
                on:input=move |e| text.set(event_target_value(&e))
                on:keydown=on_key
            ></textarea>
            <div class="composer-actions">
                <label class=move || if disabled() { "button secondary attach disabled" } else { "button secondary attach" }>
                    {move || if uploading.get() { "Uploading…" } else { "Attach file" }}
                    <input type="file" data-testid="attach" class="visually-hidden" disabled=disabled
                        accept="image/*,audio/*,video/*,application/pdf,text/plain,text/csv,.zip,.doc,.docx,.xls,.xlsx"
                        on:change=on_file />
                </label>
                <button class="button" data-testid="send" disabled=move || disabled() || reply.pending().get()
                    on:click=move |_| send()>
                    "Send"
                </button>
            </div>
            {move || reply.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            {move || upload_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    };
    view.into_any()
}

/// Sends a file through the attachments route with the session cookie.
#[cfg(feature = "hydrate")]
async fn upload(ticket: &str, file: &web_sys::File) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    init.set_body(file);
    let headers = web_sys::Headers::new().map_err(|_| "The file could not be sent.".to_owned())?;
    let kind = if file.type_().is_empty() {
        "application/octet-stream".to_owned()
    } else {
        file.type_()
    };
    let _ = headers.set("content-type", &kind);
    init.set_headers(&headers);
    let name = js_sys::encode_uri_component(&file.name());
    let url = format!("/api/v1/tickets/{ticket}/attachments?name={name}");
    let response =
        wasm_bindgen_futures::JsFuture::from(window().fetch_with_str_and_init(&url, &init))
            .await
            .map_err(|_| "The upload failed: check your connection.".to_owned())?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| "The upload failed.".to_owned())?;
    if response.ok() {
        return Ok(());
    }
    if response.status() == 401 {
        let _ = window().location().set_href("/login");
    }
    let body = match response.json() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p).await.ok(),
        Err(_) => None,
    };
    let message = body
        .and_then(|b| js_sys::Reflect::get(&b, &"error".into()).ok())
        .and_then(|e| e.as_string())
        .unwrap_or_else(|| format!("The upload failed ({}).", response.status()));
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::first_unread;
    use crate::api::inbox::{ConversationData, MessageView, Status, TicketRow};

    fn conversation(
        read_up_to: Option<i64>,
        earlier: i64,
        origins: &[(i64, &str)],
    ) -> ConversationData {
        ConversationData {
            ticket: TicketRow {
                id: "tkt_1".to_owned(),
                title: "Parcel".to_owned(),
                status: Status::Assigned,
                connection: "Shop bot".to_owned(),
                customer_name: None,
                customer_email: None,
                assignee_name: None,
                mine: true,
                created_at: 0,
                closed_at: None,
                last_preview: None,
                last_origin: None,
                last_at: None,
                unread: 0,
            },
            description: String::new(),
            closed_reason: None,
            waiting_since: None,
            customer: None,
            messages: origins
                .iter()
                .map(|&(id, origin)| MessageView {
                    id,
                    origin: origin.parse().unwrap(),
                    kind: "text".to_owned(),
                    payload: "{}".to_owned(),
                    html: None,
                    author_name: None,
                    delivery: None,
                    delivery_error: None,
                    at: id,
                })
                .collect(),
            earlier,
            read_up_to,
            can_manage: true,
            activity: Vec::new(),
            now: 0,
        }
    }

    #[test]
    fn the_marker_sits_at_the_first_customer_message_after_what_was_read() {
        let c = conversation(
            Some(2),
            0,
            &[
                (1, "customer"),
                (2, "agent"),
                (3, "agent"),
                (4, "customer"),
                (5, "customer"),
            ],
        );
        assert_eq!(first_unread(&c), Some(4));
    }

    #[test]
    fn no_marker_on_a_first_visit_or_when_everything_is_read() {
        let messages = [(1, "customer"), (2, "customer")];
        assert_eq!(
            first_unread(&conversation(None, 0, &messages)),
            None,
            "never opened"
        );
        assert_eq!(
            first_unread(&conversation(Some(2), 0, &messages)),
            None,
            "all read"
        );
        assert_eq!(
            first_unread(&conversation(Some(0), 0, &messages)),
            None,
            "nothing shown was read before"
        );
    }

    #[test]
    fn messages_read_before_the_shown_window_still_count_as_a_visit() {
        // The first shown message is already new, and what was read is further up.
        let c = conversation(Some(10), 5, &[(11, "customer"), (12, "customer")]);
        assert_eq!(first_unread(&c), Some(11));
    }
}
