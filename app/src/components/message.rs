//! One message of a transcript, drawn by its Botpress type.
//!
//! Everything from Botpress is untrusted: text goes into text nodes (escaped by
//! Leptos), only http(s) URLs become links or media sources, and markdown arrives
//! already rendered and sanitised by the server.

use leptos::prelude::*;
use serde_json::Value;

use super::avatar::initials;
use super::time::Time;
use crate::api::inbox::{Delivery, MessageView, Origin};

/// An http(s) URL, or the exact path of one of Baton's own files. Any other
/// relative path (`/files/../api/…`) is neither a link nor media: it would reach
/// another of Baton's routes with the viewer's session.
fn web_url(v: &Value) -> Option<String> {
    let url = v.as_str()?.trim();
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || own(url))
        .then(|| url.to_owned())
}

/// A file Baton serves itself (an agent's attachment, or its copy of a customer's
/// media): only those show inline; anything else is a link (see `backend::media`).
fn own(url: &str) -> bool {
    protocol::files::is_own_file(url)
}

/// An inline view of our own file, or a link to a file elsewhere.
fn inline_or_link(
    src: Option<String>,
    what: &str,
    inline: impl FnOnce(String) -> AnyView,
) -> AnyView {
    match src {
        Some(src) if own(&src) => inline(src),
        Some(src) => view! {
            <a href=src rel="noopener noreferrer" target="_blank" data-testid="media-link">
                {format!("Open the {what} (on another site)")}
            </a>
        }
        .into_any(),
        None => format!("[{what}]").into_any(),
    }
}

fn text_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Text with its line breaks, and web addresses as links.
#[component]
pub fn RichText(text: String) -> impl IntoView {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let count = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let words: Vec<AnyView> = line
                .split_inclusive(' ')
                .map(|word| {
                    let bare = word.trim_end();
                    match web_url(&Value::String(bare.to_owned())) {
                        Some(url) => view! {
                            <a href=url rel="noopener noreferrer nofollow" target="_blank">{bare.to_owned()}</a>
                            {word[bare.len()..].to_owned()}
                        }
                        .into_any(),
                        None => word.to_owned().into_any(),
                    }
                })
                .collect();
            view! { {words} {(i + 1 < count).then(|| view! { <br /> })} }
        })
        .collect_view()
}

fn link(url: Option<String>, label: String) -> AnyView {
    match url {
        Some(u) => {
            view! { <a href=u rel="noopener noreferrer nofollow" target="_blank">{label}</a> }
                .into_any()
        }
        None => view! { <span class="muted">{label}</span> }.into_any(),
    }
}

/// A card (also a carousel item): read-only, buttons shown as labels.
fn card(p: &Value) -> AnyView {
    let title = text_of(p, "title");
    let subtitle = text_of(p, "subtitle");
    let image = p.get("imageUrl").and_then(web_url);
    let actions: Vec<String> = p
        .get("actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| text_of(x, "label")).collect())
        .unwrap_or_default();
    view! {
        <div class="bp-card">
            {image.map(|src| inline_or_link(Some(src), "image", |src| view! { <img src=src alt="" loading="lazy" /> }.into_any()))}
            <strong>{title}</strong>
            {(!subtitle.is_empty()).then(|| view! { <p class="muted">{subtitle}</p> })}
            <div class="bp-options">
                {actions.into_iter().map(|l| view! { <span class="chip">{l}</span> }).collect_view()}
            </div>
        </div>
    }
    .into_any()
}

/// The body of a message of type `kind` with Botpress payload `p`.
pub fn body(kind: &str, p: &Value, html: Option<String>) -> AnyView {
    match kind {
        "text" => view! { <RichText text=text_of(p, "text") /> }.into_any(),
        "markdown" => match html {
            // Sanitised on the server (raw HTML dropped, unsafe links removed).
            Some(h) => view! { <div class="markdown" inner_html=h></div> }.into_any(),
            None => view! { <RichText text=text_of(p, "markdown") /> }.into_any(),
        },
        "image" => {
            let alt = text_of(p, "title");
            inline_or_link(p.get("imageUrl").and_then(web_url), "image", move |src| {
                let href = src.clone();
                view! {
                    <a href=href rel="noopener noreferrer" target="_blank">
                        <img class="bp-image" src=src alt=alt loading="lazy" />
                    </a>
                }
                .into_any()
            })
        }
        "audio" => inline_or_link(p.get("audioUrl").and_then(web_url), "audio", |src| {
            view! { <audio controls=true preload="none" src=src></audio> }.into_any()
        }),
        "video" => inline_or_link(p.get("videoUrl").and_then(web_url), "video", |src| {
            view! { <video controls=true preload="none" src=src class="bp-video"></video> }
                .into_any()
        }),
        "file" => {
            let title = match text_of(p, "title") {
                t if t.is_empty() => "Download file".to_owned(),
                t => t,
            };
            link(p.get("fileUrl").and_then(web_url), format!("📎 {title}"))
        }
        "location" => {
            let (lat, lon) = (
                p.get("latitude").and_then(Value::as_f64),
                p.get("longitude").and_then(Value::as_f64),
            );
            let label = [text_of(p, "title"), text_of(p, "address")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            match (lat, lon) {
                (Some(lat), Some(lon)) => {
                    let url = format!(
                        "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
                    );
                    let shown = if label.is_empty() {
                        format!("{lat}, {lon}")
                    } else {
                        label
                    };
                    link(Some(url), format!("📍 {shown}"))
                }
                _ => format!("📍 {label}").into_any(),
            }
        }
        "card" => card(p),
        "carousel" => {
            let items: Vec<AnyView> = p
                .get("items")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(card).collect())
                .unwrap_or_default();
            view! { <div class="bp-carousel">{items}</div> }.into_any()
        }
        "choice" | "dropdown" => {
            let options: Vec<String> = p
                .get("options")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|o| text_of(o, "label")).collect())
                .unwrap_or_default();
            view! {
                <div>
                    <RichText text=text_of(p, "text") />
                    <div class="bp-options">
                        {options.into_iter().map(|l| view! { <span class="chip">{l}</span> }).collect_view()}
                    </div>
                </div>
            }
            .into_any()
        }
        "bloc" => {
            let items: Vec<AnyView> = p
                .get("items")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|item| {
                            let kind = item["type"].as_str().unwrap_or("text").to_owned();
                            let inner = item.get("payload").cloned().unwrap_or(Value::Null);
                            // Blocs do not nest; markdown inside one is shown as text.
                            let shown = if kind == "bloc" {
                                "text".to_owned()
                            } else {
                                kind
                            };
                            view! { <div class="bp-bloc-item">{body(&shown, &inner, None)}</div> }
                                .into_any()
                        })
                        .collect()
                })
                .unwrap_or_default();
            view! { <div class="bp-bloc">{items}</div> }.into_any()
        }
        other => view! { <span class="muted">{format!("[{other} message]")}</span> }.into_any(),
    }
}

/// One transcript entry: author, time, body and (for agents) delivery state.
#[component]
pub fn MessageItem(
    message: MessageView,
    /// Called with the message id when the agent asks to resend a failed message.
    on_resend: Callback<i64>,
    /// The viewer may resend (holds the open ticket).
    can_resend: bool,
    /// The first of a run by one author: it carries the name and avatar.
    #[prop(default = true)]
    first: bool,
    /// The customer's name, for their bubbles.
    #[prop(into, default = "Customer".to_owned())]
    customer: String,
) -> impl IntoView {
    let payload: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
    // Classes are prefixed (`msg-…`) so they cannot collide with other components'.
    let (class, who) = match message.origin {
        Origin::Customer => ("msg msg-customer", customer),
        Origin::TranscriptCustomer => (
            "msg msg-customer msg-imported",
            format!("{customer} (with the bot)"),
        ),
        Origin::TranscriptBot => ("msg msg-bot msg-imported", "Bot".to_owned()),
        Origin::System => ("msg msg-system", "Notice".to_owned()),
        Origin::Agent => (
            "msg msg-agent",
            message
                .author_name
                .clone()
                .unwrap_or_else(|| "Agent".to_owned()),
        ),
    };
    let class = if first {
        format!("{class} msg-first")
    } else {
        class.to_owned()
    };
    let avatar = (first && message.origin != Origin::System).then(|| {
        let letters = initials(&who);
        view! { <span class="avatar-initials msg-avatar" aria-hidden="true">{letters}</span> }
    });
    let delivery = message.delivery;
    let id = message.id;
    let state = delivery.map(|d| {
        let error = message.delivery_error.clone().unwrap_or_default();
        let label = match d {
            Delivery::Pending => "Sending…".to_owned(),
            Delivery::Sent => "Sent".to_owned(),
            Delivery::Failed => format!("Not delivered: {error}"),
        };
        let failed = d == Delivery::Failed;
        view! {
            <span class=format!("delivery {}", d.as_str()) data-testid="delivery">{label}</span>
            {(failed && can_resend).then(|| view! {
                <button class="link-button" on:click=move |_| on_resend.run(id)>"Resend"</button>
            })}
        }
    });
    view! {
        <li class=class data-testid="message" data-origin=message.origin.as_str() data-anchor=format!("m{}", message.id)>
            {avatar}
            <div class="msg-bubble">
                <div class="msg-meta">
                    {first.then(|| view! { <span class="msg-who">{who}</span> })}
                    <Time ms=message.at />
                </div>
                <div class="msg-body">{body(&message.kind, &payload, message.html.clone())}</div>
                {state}
            </div>
        </li>
    }
}
