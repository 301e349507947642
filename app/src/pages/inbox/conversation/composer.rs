//! The composer: the reply box, sending, and attachments.

use leptos::html;
use leptos::prelude::*;

use super::{CanWrite, Loaded, can_write};
use crate::api::inbox::SendReply;

#[component]
pub(super) fn Composer(id: String, loaded: Loaded) -> impl IntoView {
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
