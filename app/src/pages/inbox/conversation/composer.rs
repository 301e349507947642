//! The composer: the reply box, sending, attachments, the canned-reply picker (type
//! `/` and a shortcut), and private notes (the *Note* tab: for colleagues only).

use leptos::html;
use leptos::prelude::*;
use protocol::canned;

use super::{CanWrite, Loaded, can_write};
use crate::api::canned::{CannedReply, canned_replies};
use crate::api::inbox::{AddNote, ConversationData, SendReply};
use crate::components::session::Session;

/// The most replies the picker lists at once (typing narrows them).
const PICKER_ROWS: usize = 8;

#[component]
pub(super) fn Composer(id: String, loaded: Loaded) -> impl IntoView {
    let Loaded {
        reply,
        note,
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
    // A note may be written on any ticket the page has loaded; a reply only where
    // the agent may write (see `can_write`).
    let noting = RwSignal::new(false);
    let disabled = move || {
        if noting.get() {
            current.with(Option::is_none)
        } else {
            state.get() != CanWrite::Yes
        }
    };
    let reason = move || match state.get() {
        CanWrite::No(r) if !noting.get() => Some(r),
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
    let realtime = crate::components::realtime::use_realtime();
    let typing_id = id.clone();
    let send_id = id.clone();
    let send = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        if noting.get_untracked() {
            note.dispatch(AddNote {
                id: send_id.clone(),
                text: body,
            });
        } else {
            reply.dispatch(SendReply {
                id: send_id.clone(),
                text: body,
            });
        }
        text.set(String::new());
        realtime.sent(&send_id);
    };
    let send_key = send.clone();
    let picker = Picker::new(text);
    let agent_name = use_context::<Session>()
        .and_then(|s| s.user_untracked())
        .map(|u| u.name)
        .unwrap_or_default();
    let choose = move |reply: CannedReply| {
        let values = current.with_untracked(|c| values(c.as_ref(), &agent_name));
        text.set(canned::fill(&reply.body, &values));
        picker.dismissed.set(true);
        if let Some(el) = field.get_untracked() {
            let _ = el.focus();
        }
    };
    let choose_key = choose.clone();
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        if e.is_composing() {
            return;
        }
        // While the picker is open, the arrows move in it, Enter or Tab takes the
        // highlighted reply, and Escape closes it (the text stays).
        let shown = picker.shown.get_untracked();
        if !shown.is_empty() {
            let n = shown.len();
            match e.key().as_str() {
                "ArrowDown" => picker.highlight.update(|h| *h = (*h + 1) % n),
                "ArrowUp" => picker.highlight.update(|h| *h = (*h + n - 1) % n),
                "Enter" | "Tab" => {
                    let pick = shown[picker.highlight.get_untracked().min(n - 1)].clone();
                    choose_key(pick);
                }
                "Escape" => picker.dismissed.set(true),
                _ => return,
            }
            e.prevent_default();
            return;
        }
        // Enter sends; Shift+Enter is a new line.
        if e.key() == "Enter" && !e.shift_key() {
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
    let mode = move |to_note: bool| {
        noting.set(to_note);
        if let Some(el) = field.get_untracked() {
            let _ = el.focus();
        }
    };
    let view = view! {
        <div class=move || if noting.get() { "composer noting" } else { "composer" }>
            <div class="composer-modes" role="group" aria-label="Write">
                <button type="button" class="mode" data-testid="mode-reply"
                    aria-pressed=move || (!noting.get()).to_string() on:click=move |_| mode(false)>
                    "Reply"
                </button>
                <button type="button" class="mode" data-testid="mode-note"
                    aria-pressed=move || noting.get().to_string() on:click=move |_| mode(true)>
                    "Private note"
                </button>
            </div>
            <p class="muted composer-reason" data-testid="composer-reason" hidden=move || reason().is_none()>
                {reason}
            </p>
            <super::here::TypingNow />
            <label class="visually-hidden" for="composer-text">
                {move || if noting.get() { "Private note" } else { "Reply" }}
            </label>
            <textarea
                id="composer-text"
                data-testid="composer"
                rows="3"
                node_ref=field
                placeholder=move || if noting.get() {
                    "A note only colleagues see. @name mentions someone. Enter saves."
                } else {
                    "Write a reply. Enter sends, Shift+Enter adds a line, / picks a canned reply."
                }
                disabled=disabled
                prop:value=move || text.get()
                on:input=move |e| {
                    text.set(event_target_value(&e));
                    realtime.typing(&typing_id);
                }
                on:keydown=on_key
                role="combobox"
                aria-autocomplete="list"
                aria-controls="canned-picker"
                aria-expanded=move || (!picker.shown.with(Vec::is_empty)).to_string()
                aria-activedescendant=move || {
                    (!picker.shown.with(Vec::is_empty))
                        .then(|| format!("canned-{}", picker.highlight.get()))
                }
            ></textarea>
            <PickerList picker choose />
            <div class="composer-actions">
                <label class=move || if disabled() { "button secondary attach disabled" } else { "button secondary attach" }
                    hidden=move || noting.get()>
                    {move || if uploading.get() { "Uploading…" } else { "Attach file" }}
                    <input type="file" data-testid="attach" class="visually-hidden" disabled=disabled
                        accept="image/*,audio/*,video/*,application/pdf,text/plain,text/csv,.zip,.doc,.docx,.xls,.xlsx"
                        on:change=on_file />
                </label>
                <button class="button" data-testid="send"
                    disabled=move || disabled() || reply.pending().get() || note.pending().get()
                    on:click=move |_| send()>
                    {move || if noting.get() { "Add note" } else { "Send" }}
                </button>
            </div>
            {move || reply.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            {move || note.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            {move || upload_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    };
    view.into_any()
}

/// What the variables of a canned reply stand for in this conversation.
fn values(data: Option<&ConversationData>, agent_name: &str) -> canned::Values {
    let ticket = data.map(|d| &d.ticket);
    canned::Values {
        customer_name: ticket
            .and_then(|t| t.customer_name.clone())
            .unwrap_or_default(),
        customer_email: ticket
            .and_then(|t| t.customer_email.clone())
            .unwrap_or_default(),
        agent_name: agent_name.to_owned(),
        ticket_title: ticket.map(|t| t.title.clone()).unwrap_or_default(),
    }
}

/// The canned-reply picker's state. It is open while the whole draft is `/` and a
/// query without spaces, until the agent picks a reply or presses Escape. The
/// replies load each time it opens, so a colleague's new team reply is there.
#[derive(Clone, Copy)]
struct Picker {
    /// The replies that match the query, best first.
    shown: Memo<Vec<CannedReply>>,
    highlight: RwSignal<usize>,
    dismissed: RwSignal<bool>,
}

impl Picker {
    fn new(text: RwSignal<String>) -> Self {
        let load = Action::new(|_: &()| canned_replies());
        let dismissed = RwSignal::new(false);
        let highlight = RwSignal::new(0_usize);
        let query = Memo::new(move |_| {
            text.with(|t| {
                t.strip_prefix('/')
                    .filter(|q| !q.contains(char::is_whitespace))
                    .map(str::to_owned)
            })
        });
        // Opening (re)loads the replies; leaving the `/` state re-arms the picker.
        Effect::new(move |was_open: Option<bool>| {
            let open = query.with(Option::is_some);
            if open && was_open != Some(true) {
                load.dispatch(());
            }
            if !open {
                dismissed.set(false);
            }
            open
        });
        let shown = Memo::new(move |_| {
            let Some(query) = query.get() else {
                return Vec::new();
            };
            if dismissed.get() {
                return Vec::new();
            }
            let Some(Ok(replies)) = load.value().get() else {
                return Vec::new();
            };
            let mut ranked: Vec<(u8, CannedReply)> = replies
                .into_iter()
                .filter_map(|r| canned::rank(&query, &r.shortcut, &r.body).map(|k| (k, r)))
                .collect();
            // Stable: within a rank, the server's order (one's own first) holds.
            ranked.sort_by_key(|(k, _)| *k);
            ranked
                .into_iter()
                .take(PICKER_ROWS)
                .map(|(_, r)| r)
                .collect()
        });
        Effect::new(move |_| {
            shown.track();
            highlight.set(0);
        });
        Self {
            shown,
            highlight,
            dismissed,
        }
    }
}

#[component]
fn PickerList(
    picker: Picker,
    choose: impl Fn(CannedReply) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <ul id="canned-picker" class="canned-picker" role="listbox" aria-label="Canned replies"
            data-testid="canned-picker" hidden=move || picker.shown.with(Vec::is_empty)>
            {move || picker.shown.get().into_iter().enumerate().map(|(i, reply)| {
                let choose = choose.clone();
                let selected = move || picker.highlight.get() == i;
                let preview: String = reply.body.chars().take(120).collect();
                let pick = reply.clone();
                view! {
                    <li id=format!("canned-{i}") role="option" aria-selected=move || selected().to_string()
                        class:selected=selected
                        // mousedown, not click: the textarea keeps the focus.
                        on:mousedown=move |e| { e.prevent_default(); choose(pick.clone()); }>
                        <code>{format!("/{}", reply.shortcut)}</code>
                        {reply.shared.then(|| view! { <span class="tag">"team"</span> })}
                        <span class="canned-preview">{preview}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
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
