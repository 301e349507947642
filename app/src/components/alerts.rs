//! Telling agents someone is waiting (the v12 module's "alert your agents"): a
//! sound, a browser notification and a count in the tab title when a ticket is
//! queued, and again when a queued ticket stays unclaimed past the admin's
//! threshold, and when a colleague's note mentions them. Each agent chooses sound
//! and notification, and whether to be alerted while the tab is in front (profile
//! page).

use std::collections::HashSet;

use leptos::prelude::*;

use super::realtime::use_realtime;
use super::session::Session;
use crate::api::inbox::{Summary, inbox_summary};
use crate::error::AppError;

/// The queue counts and the agent's alert settings, fetched once per change for
/// both the navigation bar (title badge, alerts) and the inbox tabs. The guard
/// creates it outside its `<Suspense>` and provides it as context.
#[derive(Debug, Clone, Copy)]
pub struct QueueSummary(pub Resource<Result<Summary, AppError>>);

impl QueueSummary {
    pub fn load(session: Session) -> Self {
        let realtime = use_realtime();
        // Re-check every 30 s for tickets crossing the threshold.
        let clock = RwSignal::new(0_u32);
        super::every(std::time::Duration::from_secs(30), move || {
            clock.update(|n| *n += 1);
        });
        Self(Resource::new(
            move || (realtime.changes.get(), clock.get()),
            move |_| session.then(inbox_summary()),
        ))
    }

    /// The summary, once loaded; `None` while loading or after a failure.
    pub fn get(&self) -> Option<Summary> {
        self.0.get().and_then(Result::ok)
    }
}

/// The title badge, the alerts, and the notification permission button.
#[component]
pub fn Alerts(summary: QueueSummary) -> impl IntoView {
    let realtime = use_realtime();
    let latest = RwSignal::new(Summary::default());
    Effect::new(move |_| {
        if let Some(s) = summary.get() {
            latest.set(s);
        }
    });
    // New tickets.
    Effect::new(move |seen: Option<u64>| {
        let created = realtime.created.get();
        if seen.is_some_and(|s| created > s) {
            latest.with_untracked(|s| {
                alert(
                    s,
                    Kind::Queue,
                    "A customer is waiting",
                    "A new conversation is queued.",
                )
            });
        }
        created
    });
    // Notes that mention this person.
    Effect::new(move |seen: Option<u64>| {
        let mentioned = realtime.mentioned.get();
        if seen.is_some_and(|s| mentioned > s) {
            latest.with_untracked(|s| {
                alert(
                    s,
                    Kind::Mention,
                    "You were mentioned",
                    "A colleague mentioned you in a note: see Mentions in the inbox.",
                )
            });
        }
        mentioned
    });
    // Tickets given to this person by someone else.
    Effect::new(move |seen: Option<u64>| {
        let assigned = realtime.assigned.get();
        if seen.is_some_and(|s| assigned > s) {
            latest.with_untracked(|s| {
                alert(
                    s,
                    Kind::Assigned,
                    "A conversation is yours",
                    "It was assigned to you: see Mine in the inbox.",
                )
            });
        }
        assigned
    });
    // Tickets past the threshold, once each.
    let alerted = StoredValue::new(HashSet::<String>::new());
    Effect::new(move |_| {
        let s = latest.get();
        let fresh: Vec<String> = alerted.with_value(|done| {
            s.overdue
                .iter()
                .filter(|id| !done.contains(*id))
                .cloned()
                .collect()
        });
        if !fresh.is_empty() {
            alerted.update_value(|done| done.extend(fresh.iter().cloned()));
            alert(
                &s,
                Kind::Queue,
                "Still waiting",
                &format!(
                    "{} conversation(s) unclaimed for over {} min.",
                    fresh.len(),
                    s.threshold_minutes
                ),
            );
        }
    });
    let permission = RwSignal::new(String::from("granted"));
    Effect::new(move |_| permission.set(notification_permission()));
    let ask = move |_| request_permission(permission);
    // The count in the tab title is set from the browser only. A `<Title>` here
    // would hand leptos_meta a closure over this component's signals, which the
    // server evaluates when it writes the <head>, after the guard's re-runs may
    // have disposed them (a panic in the render, seen under concurrent renders).
    Effect::new(move |_| {
        let title = match latest.with(|s| s.queued) {
            0 => "Baton".to_owned(),
            n => format!("({n}) Baton"),
        };
        set_document_title(&title);
    });
    on_cleanup(|| set_document_title("Baton"));
    view! {
        <button
            class="button secondary"
            data-testid="enable-notifications"
            hidden=move || permission.get() != "default" || !latest.with(|s| s.desktop)
            on:click=ask
        >
            "Enable notifications"
        </button>
    }
}

fn set_document_title(title: &str) {
    #[cfg(feature = "hydrate")]
    document().set_title(title);
    #[cfg(not(feature = "hydrate"))]
    let _ = title;
}

/// What an alert is about. Notifications of one kind replace each other (the
/// latest queue news is all that matters); a mention never hides a queue alert.
#[derive(Clone, Copy)]
enum Kind {
    Queue,
    Mention,
    Assigned,
}

fn alert(prefs: &Summary, kind: Kind, title: &str, body: &str) {
    #[cfg(feature = "hydrate")]
    {
        let focused = document().has_focus().unwrap_or(false);
        if focused && !prefs.when_focused {
            return;
        }
        if prefs.sound {
            beep();
        }
        if prefs.desktop && notification_permission() == "granted" {
            let options = web_sys::NotificationOptions::new();
            options.set_body(body);
            options.set_tag(match kind {
                Kind::Queue => "baton-queue",
                Kind::Mention => "baton-mention",
                Kind::Assigned => "baton-assigned",
            });
            let _ = web_sys::Notification::new_with_options(title, &options);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (prefs, kind, title, body);
}

fn notification_permission() -> String {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::NotificationPermission as P;
        // Absent in some browsers (and in embedded views): treat as refused.
        let has_api = js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false);
        if !has_api {
            return "denied".into();
        }
        match web_sys::Notification::permission() {
            P::Granted => "granted",
            P::Default => "default",
            _ => "denied",
        }
        .into()
    }
    #[cfg(not(feature = "hydrate"))]
    "granted".into()
}

/// Browsers only allow asking from a click.
fn request_permission(permission: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    if let Ok(promise) = web_sys::Notification::request_permission() {
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            permission.set(notification_permission());
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = permission;
}

/// A short two-tone chime, synthesised (no audio file to download).
#[cfg(feature = "hydrate")]
fn beep() {
    let Ok(ctx) = web_sys::AudioContext::new() else {
        return;
    };
    let now = ctx.current_time();
    for (i, freq) in [880.0_f32, 1320.0].into_iter().enumerate() {
        let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
            return;
        };
        let start = now + 0.15 * i as f64;
        osc.frequency().set_value(freq);
        gain.gain().set_value(0.15);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.0, start + 0.14);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&ctx.destination());
        let _ = osc.start_with_when(start);
        let _ = osc.stop_with_when(start + 0.15);
    }
}
