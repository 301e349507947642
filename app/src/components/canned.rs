//! Managing canned replies: one's own on the profile page, the team's on the admin
//! page. The list and the actions are created by the page, outside its guard (see
//! `Guard`), with [`CannedData::load`].

use leptos::prelude::*;
use protocol::canned::{MAX_BODY, MAX_SHORTCUT, Variable};

use crate::api::canned::{
    CannedReply, CreateCannedReply, DeleteCannedReply, UpdateCannedReply, canned_replies,
};
use crate::components::session::{Session, on_signed_out};
use crate::error::AppError;

#[derive(Clone, Copy)]
pub struct CannedData {
    replies: Resource<Result<Vec<CannedReply>, AppError>>,
    create: ServerAction<CreateCannedReply>,
    update: ServerAction<UpdateCannedReply>,
    delete: ServerAction<DeleteCannedReply>,
}

impl CannedData {
    pub fn load(session: Session) -> Self {
        let create = ServerAction::<CreateCannedReply>::new();
        let update = ServerAction::<UpdateCannedReply>::new();
        let delete = ServerAction::<DeleteCannedReply>::new();
        let replies = Resource::new(
            move || create.version().get() + update.version().get() + delete.version().get(),
            move |_| session.then(canned_replies()),
        );
        Self {
            replies,
            create,
            update,
            delete,
        }
    }
}

/// The replies to manage (`shared`: the team's, else one's own), a form to add or
/// edit one, and (for one's own) the team's replies to read.
#[component]
pub fn CannedReplies(data: CannedData, shared: bool) -> impl IntoView {
    let CannedData {
        replies,
        create,
        update,
        delete,
    } = data;
    on_signed_out(move || create.value().get());
    on_signed_out(move || update.value().get());
    on_signed_out(move || delete.value().get());
    // The reply being edited, if any; else the form adds one.
    let editing = RwSignal::new(None::<i64>);
    let shortcut = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let clear = move || {
        editing.set(None);
        shortcut.set(String::new());
        body.set(String::new());
    };
    // A saved reply empties the form; a refused one keeps it, with the reason.
    Effect::new(move |_| {
        let created = matches!(create.value().get(), Some(Ok(())));
        let updated = matches!(update.value().get(), Some(Ok(())));
        if created || updated {
            clear();
        }
    });
    let error = move || {
        crate::components::first_error([
            create.value().get().and_then(Result::err),
            update.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ])
    };
    let save = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (s, b) = (shortcut.get_untracked(), body.get_untracked());
        match editing.get_untracked() {
            Some(id) => {
                update.dispatch(UpdateCannedReply {
                    id,
                    shortcut: s,
                    body: b,
                });
            }
            None => {
                create.dispatch(CreateCannedReply {
                    shortcut: s,
                    body: b,
                    shared,
                });
            }
        }
    };
    let variables = Variable::ALL
        .iter()
        .map(|v| format!("{{{{{}}}}}", v.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let (title, intro, empty) = if shared {
        (
            "Team replies",
            "Every agent is offered these in the composer: type / and the shortcut.",
            "No team replies yet.",
        )
    } else {
        (
            "Your canned replies",
            "Only you are offered these, before the team's: type / and the shortcut in the composer.",
            "You have no replies of your own yet.",
        )
    };
    let row = move |r: CannedReply, editable: bool| {
        let id = r.id;
        let (s, b) = (r.shortcut.clone(), r.body.clone());
        view! {
            <tr data-testid="canned-row">
                <td><code>{format!("/{}", r.shortcut)}</code></td>
                <td class="canned-body">{r.body}</td>
                <td class="row-actions">
                    {editable.then(|| view! {
                        <button class="button secondary" type="button" on:click=move |_| {
                            editing.set(Some(id));
                            shortcut.set(s.clone());
                            body.set(b.clone());
                        }>"Edit"</button>
                        <button class="button secondary" type="button" on:click=move |_| {
                            if crate::components::confirm("Delete this reply?") {
                                delete.dispatch(DeleteCannedReply { id });
                            }
                        }>"Delete"</button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card" data-testid=if shared { "team-replies" } else { "own-replies" }>
            // The team's replies are the admin page's subject; one's own, a profile section.
            {if shared { view! { <h1>{title}</h1> }.into_any() } else { view! { <h2>{title}</h2> }.into_any() }}
            <p class="muted">{intro}</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || replies.get().map(|result| match result {
                    Ok(all) => {
                        let (managed, others): (Vec<_>, Vec<_>) =
                            all.into_iter().partition(|r| r.shared == shared);
                        let managed = if managed.is_empty() {
                            view! { <p class="muted">{empty}</p> }.into_any()
                        } else {
                            view! {
                                <table class="table canned-table">
                                    <thead><tr><th>"Shortcut"</th><th>"Text"</th><th></th></tr></thead>
                                    <tbody>{managed.into_iter().map(|r| row(r, true)).collect_view()}</tbody>
                                </table>
                            }.into_any()
                        };
                        // One's own page also shows the team's, to read and not clash with.
                        let team = (!shared && !others.is_empty()).then(|| view! {
                            <details class="canned-team">
                                <summary>{format!("Team replies ({}), managed by admins", others.len())}</summary>
                                <table class="table canned-table">
                                    <tbody>{others.into_iter().map(|r| row(r, false)).collect_view()}</tbody>
                                </table>
                            </details>
                        });
                        view! { {managed} {team} }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <form class="form" on:submit=save data-testid="canned-form">
                <h3>{move || if editing.get().is_some() { "Edit the reply" } else { "Add a reply" }}</h3>
                <label>
                    "Shortcut"
                    <input type="text" name="shortcut" required maxlength=MAX_SHORTCUT.to_string()
                        placeholder="e.g. refund"
                        prop:value=move || shortcut.get()
                        on:input=move |e| shortcut.set(event_target_value(&e)) />
                </label>
                <label>
                    "Text"
                    <textarea name="body" rows="4" required maxlength=MAX_BODY.to_string()
                        prop:value=move || body.get()
                        on:input=move |e| body.set(event_target_value(&e))></textarea>
                </label>
                <p class="muted">"Variables, filled in when you use the reply: " <code>{variables}</code></p>
                {error}
                <div class="form-actions">
                    <button class="button" type="submit"
                        disabled=move || create.pending().get() || update.pending().get()>
                        {move || if editing.get().is_some() { "Save changes" } else { "Add reply" }}
                    </button>
                    <button class="button secondary" type="button" hidden=move || editing.get().is_none()
                        on:click=move |_| clear()>"Cancel"</button>
                </div>
            </form>
        </section>
    }
}
