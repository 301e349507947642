//! One conversation: the transcript (the bot's part first, then the handoff), the
//! ticket's facts, the customer panel, the actions (take, transfer, hand back) and
//! the composer. It refetches when the realtime connection names this ticket.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{LiveState, ticking_now, waited};
use crate::api::inbox::{
    CloseTicket, ConversationData, FIRST_MESSAGES, MarkRead, ResendMessage, SendReply, TakeTicket,
    TransferTicket, colleagues, conversation,
};

/// How many more messages "Show earlier messages" adds.
const EARLIER_STEP: u32 = 200;
use crate::components::guard::{Guard, Session, on_signed_out};
use crate::components::live::use_live;
use crate::components::message::MessageItem;
use crate::components::time::{format_optional, format_utc};
use crate::error::AppError;

/// What the page loads, and the actions whose results reload it: created by the
/// route, outside the guard (see `Guard`).
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
}

#[component]
pub fn ConversationPage() -> impl IntoView {
    let session = Session::load();
    let live = use_live();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Refetch when an event names this ticket (or after a resync).
    let version = Memo::new(move |previous: Option<&u64>| {
        let changes = live.changes.get();
        match previous {
            Some(&p) if !live.touches(&id()) => p,
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
    };
    view! { <Guard session page=move |_| view! { <ConversationView loaded /> } /> }
}

#[component]
fn ConversationView(loaded: Loaded) -> impl IntoView {
    let Loaded {
        data,
        take,
        transfer,
        close,
        resend,
        ..
    } = loaded;
    let read = ServerAction::<MarkRead>::new();
    on_signed_out(move || data.get());
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

    view! {
        <div class="conversation-page">
            <p><a href="/inbox">"← Inbox"</a> " " <LiveState /></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    data.get()
                        .map(|result| match result {
                            Err(AppError::Invalid(m)) if m.contains("not found") => {
                                view! { <section class="card"><h1>"No such conversation"</h1></section> }.into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(c) => {
                                view! {
                                    <Body c now loaded action_error=Signal::derive(action_error) />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn Body(
    c: ConversationData,
    now: Signal<i64>,
    loaded: Loaded,
    action_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let Loaded {
        take,
        transfer,
        close,
        reply,
        resend,
        uploads,
        latest,
        ..
    } = loaded;
    let t = c.ticket.clone();
    let id = t.id.clone();
    let open = t.status != "closed";
    let mine = t.mine && open;
    let title = if t.title.trim().is_empty() {
        "(no title)".to_owned()
    } else {
        t.title.clone()
    };
    let holder = match (t.status.as_str(), t.mine, t.assignee_name.clone()) {
        ("closed", ..) => format!(
            "Closed ({})",
            c.closed_reason
                .clone()
                .unwrap_or_default()
                .replace('_', " ")
        ),
        (_, true, _) => "You".to_owned(),
        (_, _, Some(name)) => name,
        _ => "Nobody: waiting in the queue".to_owned(),
    };
    let waiting_since = c.waiting_since;
    let on_resend = Callback::new(move |message: i64| {
        resend.dispatch(ResendMessage { message });
    });
    let composer_reason = if !open {
        Some("This ticket is closed.")
    } else if !t.mine {
        Some("Take this ticket to reply: the bot answers until someone does.")
    } else {
        None
    };
    let (id_take, id_close, id_transfer) = (id.clone(), id.clone(), id.clone());
    let messages = c.messages.clone();
    let count = messages.len();
    let earlier = c.earlier;
    // Built in parts and type-erased: as one `view!` the page's type is too deep
    // for the release build.
    let actions = view! {
        <div class="actions">
            {(open && !t.mine).then(|| view! {
                <button class="button" data-testid="take" disabled=move || take.pending().get()
                    on:click=move |_| { take.dispatch(TakeTicket { id: id_take.clone() }); }>
                    "Take over"
                </button>
            })}
            {open.then(|| view! { <TransferMenu id=id_transfer.clone() transfer /> })}
            {open.then(|| view! {
                <button class="button danger" data-testid="close" disabled=move || close.pending().get()
                    on:click=move |_| {
                        if crate::components::confirm("Hand this conversation back to the bot and close the ticket?") {
                            close.dispatch(CloseTicket { id: id_close.clone() });
                        }
                    }>
                    "Hand back to bot & close"
                </button>
            })}
        </div>
    }
    .into_any();
    let transcript = view! {
        {(earlier > 0).then(|| view! {
            <button class="button secondary earlier" data-testid="show-earlier"
                on:click=move |_| latest.update(|n| *n += EARLIER_STEP)>
                {format!("Show earlier messages ({earlier} more)")}
            </button>
        })}
        <ol class="transcript" data-testid="transcript" data-count=count>
            {messages
                .into_iter()
                .map(|m| view! { <MessageItem message=m on_resend can_resend=mine /> })
                .collect_view()}
        </ol>
    }
    .into_any();
    let facts = view! {
        <section class="card">
            <h2>"Ticket"</h2>
            <dl class="facts">
                <dt>"Description"</dt><dd>{if c.description.is_empty() { "—".to_owned() } else { c.description.clone() }}</dd>
                <dt>"Bot"</dt><dd>{t.connection.clone()}</dd>
                <dt>"Created"</dt><dd>{format_utc(t.created_at)}</dd>
                <dt>"Waiting"</dt>
                <dd data-testid="waiting">{move || waiting_since.map_or_else(|| "—".to_owned(), |s| format!("{} (since {})", waited(now.get(), s), format_utc(s)))}</dd>
                <dt>"Held by"</dt><dd data-testid="held-by">{holder}</dd>
                <dt>"Closed"</dt><dd>{format_optional(t.closed_at, "—")}</dd>
                <dt>"Ticket id"</dt><dd><code>{t.id.clone()}</code></dd>
            </dl>
        </section>
    }
    .into_any();
    view! {
        <div class="conversation">
            <section class="card transcript-card">
                <header class="conv-head">
                    <h1 data-testid="ticket-title">{title}</h1>
                    <span class=format!("status {}", t.status) data-testid="ticket-status">{t.status.clone()}</span>
                </header>
                {actions}
                {move || action_error.get().map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                {transcript}
                <Composer id=id.clone() reply uploads reason=composer_reason />
            </section>
            <aside class="side">
                {facts}
                <CustomerPanel c=c.clone() />
            </aside>
        </div>
    }
}

#[component]
fn CustomerPanel(c: ConversationData) -> impl IntoView {
    let Some(customer) = c.customer else {
        return view! { <section class="card"><h2>"Customer"</h2><p class="muted">"Not known yet."</p></section> }.into_any();
    };
    view! {
        <section class="card customer-panel" data-testid="customer">
            <h2>"Customer"</h2>
            {customer.picture_url.map(|src| view! { <img class="avatar" src=src alt="" /> })}
            <p><strong>{customer.name.unwrap_or_else(|| "Unnamed".to_owned())}</strong></p>
            {customer.email.map(|e| view! { <p><a href=format!("mailto:{e}")>{e.clone()}</a></p> })}
            <h3>"Other tickets"</h3>
            {if customer.others.is_empty() {
                view! { <p class="muted">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {customer.others.into_iter().map(|o| view! {
                            <li>
                                <a href=format!("/inbox/{}", o.id)>{if o.title.is_empty() { "(no title)".to_owned() } else { o.title }}</a>
                                " " <span class="muted">{format!("{}, {}", o.status, format_utc(o.created_at))}</span>
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
fn TransferMenu(id: String, transfer: ServerAction<TransferTicket>) -> impl IntoView {
    // Colleagues load when the menu opens (presence is then current), and the whole
    // <select> renders at once: the HTML parser drops the markers a reactive region
    // would leave inside a <select>, which breaks hydration.
    // An action, not a resource: this component is drawn inside the page's
    // <Transition>, and a resource created there would be created anew on each of
    // its re-runs (see `Guard`).
    let open = RwSignal::new(false);
    let people = Action::new(|_: &()| colleagues());
    let chosen = RwSignal::new(String::new());
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
                view! { <option value=p.id>{label}</option> }
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
        </span>
    }
}

#[component]
fn Composer(
    id: String,
    reply: ServerAction<SendReply>,
    uploads: RwSignal<u32>,
    reason: Option<&'static str>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let upload_error = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    let disabled = reason.is_some();
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
            {reason.map(|r| view! { <p class="muted" data-testid="composer-reason">{r}</p> })}
            <textarea
                data-testid="composer"
                rows="3"
                placeholder="Write a reply. Enter sends, Shift+Enter adds a line."
                disabled=disabled
                prop:value=move || text.get()
                on:input=move |e| text.set(event_target_value(&e))
                on:keydown=on_key
            ></textarea>
            <div class="actions">
                <button class="button" data-testid="send" disabled=move || disabled || reply.pending().get()
                    on:click=move |_| send()>
                    "Send"
                </button>
                <label class=if disabled { "button secondary disabled" } else { "button secondary" }>
                    {move || if uploading.get() { "Uploading…" } else { "Attach file" }}
                    <input type="file" data-testid="attach" class="visually-hidden" disabled=disabled
                        accept="image/*,audio/*,video/*,application/pdf,text/plain,text/csv,.zip,.doc,.docx,.xls,.xlsx"
                        on:change=on_file />
                </label>
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
    let headers = web_sys::Headers::new().map_err(|_| "cannot upload".to_owned())?;
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
            .map_err(|_| "the upload failed: check your connection".to_owned())?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| "the upload failed".to_owned())?;
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
        .unwrap_or_else(|| format!("the upload failed ({})", response.status()));
    Err(message)
}
