//! The transcript: messages grouped by author, activity lines between them, the
//! "New messages" marker, and scrolling (follow the newest, open at the marker).

use leptos::html;
use leptos::prelude::*;

use super::{BOTTOM_SLACK, EARLIER_STEP, Loaded};
use crate::api::inbox::{ActivityLine, ConversationData, NoteView, Origin, ResendMessage, Status};
use crate::components::message::MessageItem;
use crate::components::time::Time;

/// The messages, in a scroll box that follows the newest one.
#[component]
pub(super) fn Transcript(loaded: Loaded) -> impl IntoView {
    let Loaded {
        data,
        resend,
        latest,
        current,
        marker: keep,
        anchor,
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
            // Opened from a search hit: the effect below scrolls to it.
            _ if anchor.get_untracked().is_some() => {}
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
    // A search hit: its message or note, once drawn, is brought into view and
    // marked. Each anchor once; the agent scrolls freely after.
    Effect::new(move |done: Option<Option<String>>| {
        let key = anchor.get().map(crate::api::inbox::Anchor::key);
        let loaded = current.with(Option::is_some);
        let done = done.flatten();
        match key {
            Some(key) if loaded && done.as_ref() != Some(&key) => {
                at_bottom.set_value(false);
                open_at_anchor(scroller, key.clone(), MARKER_FRAMES);
                Some(key)
            }
            _ => done,
        }
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
                                                {
                                                // The conversation with the bot leads, under a heading, and
                                                // a line marks where a person took over.
                                                let mut boundary = Boundary::default();
                                                interleave(group(c.messages), c.activity, c.notes)
                                                    .into_iter()
                                                    .map(|item| match item {
                                                        Item::Message(m, first) => {
                                                            let line = boundary.before(m.origin).map(|b| view! {
                                                                <li class="handoff-line" data-testid=b.test_id()><span>{b.text()}</span></li>
                                                            });
                                                            let new = (Some(m.id) == unread_at).then(|| view! {
                                                                <li class="unread-marker" data-testid="unread-marker"><span>"New messages"</span></li>
                                                            });
                                                            view! { {line} {new} <MessageItem message=m on_resend can_resend=mine first customer=customer.clone() /> }
                                                                .into_any()
                                                        }
                                                        Item::Activity(a) => view! {
                                                            <li class="activity" data-testid="activity">
                                                                {a.text}" · "<Time ms=a.at />
                                                            </li>
                                                        }
                                                            .into_any(),
                                                        Item::Note(n) => view! { <NoteItem note=n /> }.into_any(),
                                                    })
                                                    .collect_view()
                                                }
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

/// The lines around the conversation before the handoff (imported from Botpress, or
/// brought by Baton's integration): a heading over it, and a line where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HandoffLine {
    Before,
    TakenOver,
}

impl HandoffLine {
    fn text(self) -> &'static str {
        match self {
            HandoffLine::Before => "Before the handoff: the conversation with the bot",
            HandoffLine::TakenOver => "Handed over",
        }
    }

    fn test_id(self) -> &'static str {
        match self {
            HandoffLine::Before => "before-handoff",
            HandoffLine::TakenOver => "handed-over",
        }
    }
}

/// Where the transcript is, message by message: the imported part comes first.
#[derive(Debug, Default)]
struct Boundary {
    in_history: bool,
    past_history: bool,
}

impl Boundary {
    /// The line to draw before a message of `origin`, if any.
    fn before(&mut self, origin: Origin) -> Option<HandoffLine> {
        let imported = matches!(origin, Origin::TranscriptCustomer | Origin::TranscriptBot);
        match (imported, self.in_history, self.past_history) {
            (true, false, false) => {
                self.in_history = true;
                Some(HandoffLine::Before)
            }
            (false, true, false) => {
                self.past_history = true;
                Some(HandoffLine::TakenOver)
            }
            _ => None,
        }
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

/// Scrolls to the anchored message or note once it is drawn, and marks it.
fn open_at_anchor(scroller: NodeRef<html::Div>, key: String, frames: u32) {
    request_animation_frame(move || {
        if !scroll_to_anchor(scroller, &key) && frames > 0 {
            open_at_anchor(scroller, key, frames - 1);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn scroll_to_anchor(_scroller: NodeRef<html::Div>, _key: &str) -> bool {
    true
}

#[cfg(feature = "hydrate")]
fn scroll_to_anchor(scroller: NodeRef<html::Div>, key: &str) -> bool {
    let Some(el) = scroller.get_untracked() else {
        return false;
    };
    let Ok(Some(target)) = el.query_selector(&format!("[data-anchor=\"{key}\"]")) else {
        return false;
    };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    target.scroll_into_view_with_scroll_into_view_options(&options);
    let _ = target.set_attribute("data-found", "");
    true
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
    Note(NoteView),
}

impl Item {
    fn at(&self) -> i64 {
        match self {
            Item::Message(m, _) => m.at,
            Item::Activity(a) => a.at,
            Item::Note(n) => n.at,
        }
    }
}

/// Messages, activity lines and notes in time order (each list is oldest first).
/// At the same instant, activity and notes come before the message.
fn interleave(
    messages: Vec<(crate::api::inbox::MessageView, bool)>,
    activity: Vec<ActivityLine>,
    notes: Vec<NoteView>,
) -> Vec<Item> {
    let mut asides: Vec<Item> = activity
        .into_iter()
        .map(Item::Activity)
        .chain(notes.into_iter().map(Item::Note))
        .collect();
    // Stable: activity before a note of the same instant.
    asides.sort_by_key(Item::at);
    let mut asides = asides.into_iter().peekable();
    let mut out = Vec::with_capacity(messages.len());
    for (m, first) in messages {
        while let Some(a) = asides.next_if(|a| a.at() <= m.at) {
            out.push(a);
        }
        out.push(Item::Message(m, first));
    }
    out.extend(asides);
    out
}

/// A private note: set apart from the messages, with its author, and never seen by
/// the customer.
#[component]
fn NoteItem(note: NoteView) -> impl IntoView {
    let mentions =
        (!note.mentions.is_empty()).then(|| format!(" · mentions {}", note.mentions.join(", ")));
    view! {
        <li class="note" data-testid="note" data-anchor=format!("n{}", note.id)>
            <p class="note-head">
                <span class="note-label">"Private note"</span>
                " · "<span class="note-author">{note.author_name}</span>
                " · "<Time ms=note.at />
                {mentions}
            </p>
            <p class="note-text">{note.text}</p>
        </li>
    }
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

#[cfg(test)]
mod tests {
    use super::{Boundary, HandoffLine, first_unread};
    use crate::api::inbox::Origin;

    #[test]
    fn the_history_gets_a_heading_and_its_end_a_line() {
        let mut b = Boundary::default();
        let lines: Vec<Option<HandoffLine>> = [
            Origin::TranscriptCustomer,
            Origin::TranscriptBot,
            Origin::Customer,
            Origin::Agent,
            Origin::TranscriptBot,
        ]
        .into_iter()
        .map(|o| b.before(o))
        .collect();
        assert_eq!(
            lines,
            [
                Some(HandoffLine::Before),
                None,
                Some(HandoffLine::TakenOver),
                None,
                None
            ]
        );
        let mut without = Boundary::default();
        assert_eq!(without.before(Origin::Customer), None);
    }
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
                labels: Vec::new(),
                priority: None,
                team: None,
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
            notes: Vec::new(),
            mentioned: false,
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
