//! The composer: the reply box, sending, attachments, the canned-reply picker (type
//! `/` and a shortcut), and private notes (the *Note* tab: for colleagues only), where
//! `@` offers the colleagues to mention: only those who may see the ticket, since a
//! mention shows it to them (the server refuses a note that names anyone else).

use leptos::html;
use leptos::prelude::*;
use protocol::{canned, mention};

use super::{CanWrite, Loaded, can_write};
use crate::api::canned::{CannedReply, canned_replies};
use crate::api::inbox::{AddNote, Colleague, ConversationData, SendReply, mentionable};
use crate::components::session::Session;
use crate::error::AppError;

/// The most choices a picker lists at once (typing narrows them).
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
    // The note last sent: a refused one (it names someone who cannot see the ticket,
    // say) comes back to the box, under its reason, to be fixed rather than retyped.
    let unsent = StoredValue::new(String::new());
    Effect::new(move |_| {
        if let Some(Err(_)) = note.value().get() {
            let body = unsent.get_value();
            if !body.is_empty() && text.with_untracked(String::is_empty) {
                text.set(body);
            }
        }
    });
    let send = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        if noting.get_untracked() {
            unsent.set_value(body.clone());
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
    let picker = canned_picker(text);
    // Where the caret is (a byte offset into the draft), for the `@` picker.
    let caret = RwSignal::new(0_usize);
    let typing_mention = Memo::new(move |_| {
        if !noting.get() {
            return None;
        }
        let at = caret.get();
        text.with(|t| mention::typed(t, at).map(|m| (m.start, at, m.query.to_owned())))
    });
    let mentions = mention_picker(typing_mention, id.clone());
    // A word typed after `@` that names nobody offered: say who can be mentioned, as
    // the name the agent looks for may be someone who cannot see this ticket.
    let nobody_offered = move || {
        typing_mention.with(|t| {
            t.as_ref()
                .is_some_and(|(_, _, q)| !q.is_empty() && !q.contains(char::is_whitespace))
        }) && mentions.shown.with(Vec::is_empty)
            && !mentions.dismissed.get()
    };
    let track_caret = move || {
        if let Some(el) = field.get_untracked() {
            let units = el.selection_start().ok().flatten().unwrap_or(0);
            let units = usize::try_from(units).unwrap_or(0);
            caret.set(text.with_untracked(|t| mention::from_utf16(t, units)));
        }
    };
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
    // The picked name replaces what was typed after the `@`; the caret goes after it.
    let pick_mention = move |person: Colleague| {
        let Some((start, at, _)) = typing_mention.get_untracked() else {
            return;
        };
        let (draft, after) = text.with_untracked(|t| mention::insert(t, start, at, &person.name));
        if let Some(el) = field.get_untracked() {
            // The value first, so that the caret set next is not moved to the end
            // when the draft's binding writes the same value.
            el.set_value(&draft);
            let units = u32::try_from(mention::to_utf16(&draft, after)).unwrap_or(u32::MAX);
            let _ = el.set_selection_range(units, units);
            let _ = el.focus();
        }
        text.set(draft);
        caret.set(after);
    };
    let choose_key = choose.clone();
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        if e.is_composing() {
            return;
        }
        // While a picker is open, the arrows move in it, Enter or Tab takes the
        // highlighted choice, and Escape closes it (the text stays).
        let people = mentions.shown.get_untracked();
        let replies = picker.shown.get_untracked();
        let handled = if !people.is_empty() {
            match mentions.key(&e.key()) {
                Some(Some(i)) => pick_mention(people[i].clone()),
                Some(None) => {}
                None => return,
            }
            true
        } else if !replies.is_empty() {
            match picker.key(&e.key()) {
                Some(Some(i)) => choose_key(replies[i].clone()),
                Some(None) => {}
                None => return,
            }
            true
        } else {
            false
        };
        if handled {
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
                    track_caret();
                    realtime.typing(&typing_id);
                }
                on:keydown=on_key
                on:keyup=move |_| track_caret()
                on:click=move |_| track_caret()
                role="combobox"
                aria-autocomplete="list"
                aria-controls="canned-picker mention-picker"
                aria-expanded=move || {
                    (!picker.shown.with(Vec::is_empty) || !mentions.shown.with(Vec::is_empty))
                        .to_string()
                }
                aria-activedescendant=move || {
                    if !mentions.shown.with(Vec::is_empty) {
                        Some(format!("mention-{}", mentions.highlight.get()))
                    } else {
                        (!picker.shown.with(Vec::is_empty))
                            .then(|| format!("canned-{}", picker.highlight.get()))
                    }
                }
            ></textarea>
            {choice_list(ChoiceList {
                id: "canned",
                label: "Canned replies",
                picker,
                item: |reply: &CannedReply| {
                    let preview: String = reply.body.chars().take(120).collect();
                    view! {
                        <code>{format!("/{}", reply.shortcut)}</code>
                        {reply.shared.then(|| view! { <span class="tag">"team"</span> })}
                        <span class="canned-preview">{preview}</span>
                    }
                    .into_any()
                },
                choose,
            })}
            {choice_list(ChoiceList {
                id: "mention",
                label: "Colleagues to mention",
                picker: mentions,
                item: |person: &Colleague| {
                    view! {
                        <span>{person.name.clone()}</span>
                        <span class="canned-preview">{person.presence.clone()}</span>
                    }
                    .into_any()
                },
                choose: pick_mention,
            })}
            <p class="muted composer-reason" data-testid="mention-hint" hidden=move || !nobody_offered()>
                "Only colleagues who can see this conversation can be mentioned: those in a team that serves its bot, and admins."
            </p>
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

/// A picker's state: the choices shown (none while it is closed), the highlighted one,
/// and whether Escape closed it.
struct Picker<T: Send + Sync + 'static> {
    shown: Memo<Vec<T>>,
    highlight: RwSignal<usize>,
    dismissed: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for Picker<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Picker<T> {}

impl<T: Clone + PartialEq + Send + Sync + 'static> Picker<T> {
    /// A picker open while `query` is `Some`. The choices load each time it opens, so
    /// a colleague's new team reply or a new colleague is there; `filter` narrows and
    /// orders them for the query. Leaving the query re-arms a dismissed picker.
    fn new<Q: Clone + PartialEq + Send + Sync + 'static>(
        query: Memo<Option<Q>>,
        load: Action<(), Result<Vec<T>, AppError>>,
        filter: fn(&Q, Vec<T>) -> Vec<T>,
    ) -> Self {
        let dismissed = RwSignal::new(false);
        let highlight = RwSignal::new(0_usize);
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
            let Some(Ok(choices)) = load.value().get() else {
                return Vec::new();
            };
            let mut shown = filter(&query, choices);
            shown.truncate(PICKER_ROWS);
            shown
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

    /// What a key does while the picker is open: `None`, nothing (the key goes on);
    /// `Some(Some(i))`, take choice `i`; `Some(None)`, handled here.
    fn key(self, key: &str) -> Option<Option<usize>> {
        let n = self.shown.with_untracked(Vec::len).max(1);
        match key {
            "ArrowDown" => self.highlight.update(|h| *h = (*h + 1) % n),
            "ArrowUp" => self.highlight.update(|h| *h = (*h + n - 1) % n),
            "Enter" | "Tab" => return Some(Some(self.highlight.get_untracked().min(n - 1))),
            "Escape" => self.dismissed.set(true),
            _ => return None,
        }
        Some(None)
    }
}

/// The canned-reply picker: open while the whole draft is `/` and a query without
/// spaces, until the agent picks a reply or presses Escape.
fn canned_picker(text: RwSignal<String>) -> Picker<CannedReply> {
    let query = Memo::new(move |_| {
        text.with(|t| {
            t.strip_prefix('/')
                .filter(|q| !q.contains(char::is_whitespace))
                .map(str::to_owned)
        })
    });
    Picker::new(
        query,
        Action::new(|_: &()| canned_replies()),
        |query: &String, replies| {
            let mut ranked: Vec<(u8, CannedReply)> = replies
                .into_iter()
                .filter_map(|r| canned::rank(query, &r.shortcut, &r.body).map(|k| (k, r)))
                .collect();
            // Stable: within a rank, the server's order (one's own first) holds.
            ranked.sort_by_key(|(k, _)| *k);
            ranked.into_iter().map(|(_, r)| r).collect()
        },
    )
}

/// The `@` picker of a note on `ticket`: open while a mention is being typed
/// (`typing`: the `@`, the caret and the query), offering the colleagues who may see
/// the ticket whose name or a word of it starts with the query, online first (the
/// server's order).
fn mention_picker(
    typing: Memo<Option<(usize, usize, String)>>,
    ticket: String,
) -> Picker<Colleague> {
    Picker::new(
        typing,
        Action::new(move |_: &()| mentionable(ticket.clone())),
        |(_, _, query): &(usize, usize, String), people| {
            people
                .into_iter()
                .filter(|p| mention::offers(&p.name, query))
                .collect()
        },
    )
}

/// What a picker's list shows: its element ids (`{id}-picker`, `{id}-{i}`), its label,
/// each choice's content, and what picking one does.
struct ChoiceList<T: Send + Sync + 'static, F> {
    id: &'static str,
    label: &'static str,
    picker: Picker<T>,
    item: fn(&T) -> AnyView,
    choose: F,
}

fn choice_list<T, F>(list: ChoiceList<T, F>) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    F: Fn(T) + Clone + Send + Sync + 'static,
{
    let ChoiceList {
        id,
        label,
        picker,
        item,
        choose,
    } = list;
    view! {
        <ul id=format!("{id}-picker") class="canned-picker" role="listbox" aria-label=label
            data-testid=format!("{id}-picker") hidden=move || picker.shown.with(Vec::is_empty)>
            {move || picker.shown.get().into_iter().enumerate().map(|(i, choice)| {
                let choose = choose.clone();
                let selected = move || picker.highlight.get() == i;
                let content = item(&choice);
                view! {
                    <li id=format!("{id}-{i}") role="option" aria-selected=move || selected().to_string()
                        class:selected=selected
                        // mousedown, not click: the textarea keeps the focus.
                        on:mousedown=move |e| { e.prevent_default(); choose(choice.clone()); }>
                        {content}
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
