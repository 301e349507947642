//! Admin: the people who use Baton. Create (with a password or an invitation link),
//! edit name and role, deactivate and reactivate, and send a password-reset link.

use leptos::prelude::*;

use crate::api::agents::{
    AgentRow, CreateAgent, DeactivateAgent, ReactivateAgent, Role, UpdateAgent, agent_reset_link,
    list_agents,
};
use crate::components::guard::Guard;
use crate::components::session::{Session, on_signed_out};
use crate::components::time::TimeOr;
use crate::error::AppError;

/// The list, and the actions whose results reload it: created by the route,
/// outside the guard (see `Guard`).
#[derive(Clone, Copy)]
struct Loaded {
    agents: Resource<Result<Vec<AgentRow>, AppError>>,
    create: ServerAction<CreateAgent>,
    update: ServerAction<UpdateAgent>,
    deactivate: ServerAction<DeactivateAgent>,
    reactivate: ServerAction<ReactivateAgent>,
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let session = Session::load();
    let create = ServerAction::<CreateAgent>::new();
    let update = ServerAction::<UpdateAgent>::new();
    let deactivate = ServerAction::<DeactivateAgent>::new();
    let reactivate = ServerAction::<ReactivateAgent>::new();
    let agents = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                deactivate.version().get(),
                reactivate.version().get(),
            )
        },
        move |_| session.then(list_agents()),
    );
    let loaded = Loaded {
        agents,
        create,
        update,
        deactivate,
        reactivate,
    };
    view! { <Guard session admin=true page=move |_| view! { <Agents loaded /> } /> }
}

#[component]
fn Agents(loaded: Loaded) -> impl IntoView {
    let Loaded {
        agents,
        create,
        update,
        deactivate,
        reactivate,
    } = loaded;
    let reset = Action::new(|id: &i64| agent_reset_link(*id));
    on_signed_out(move || create.value().get());
    on_signed_out(move || update.value().get());
    on_signed_out(move || deactivate.value().get());
    on_signed_out(move || reactivate.value().get());
    on_signed_out(move || reset.value().get());

    // One notice area for the outcome of the latest row action.
    let notice = move || {
        let failed = [
            update.value().get().and_then(|r| r.err()),
            deactivate.value().get().and_then(|r| r.err()),
            reactivate.value().get().and_then(|r| r.err()),
        ];
        if let Some(e) = failed.into_iter().flatten().next() {
            return Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any());
        }
        match reset.value().get() {
            Some(Ok(link)) => Some(view! { <LinkNotice text="Send this one-time link to the person. It lets them set a new password; earlier links stop working." link /> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
            None => deactivate.value().get().and_then(|r| r.ok()).map(|n| {
                view! {
                    <p class="notice" role="status">
                        {format!("Deactivated and signed out everywhere; {n} open ticket(s) returned to the queue.")}
                    </p>
                }
                .into_any()
            }),
        }
    };

    view! {
        <section class="card">
            <h1>"Agents"</h1>
            {notice}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    agents
                        .get()
                        .map(|result| match result {
                            Ok(rows) => {
                                view! {
                                    <table class="table" data-testid="agents">
                                        <thead>
                                            <tr>
                                                <th>"Name"</th>
                                                <th>"Email"</th>
                                                <th>"Role"</th>
                                                <th>"Status"</th>
                                                <th>"Presence"</th>
                                                <th>"Last seen"</th>
                                                <th>"Open tickets"</th>
                                                <th>"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|row| view! { <AgentLine row update deactivate reactivate reset /> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
        <CreateForm create />
    }
}

#[component]
fn AgentLine(
    row: AgentRow,
    update: ServerAction<UpdateAgent>,
    deactivate: ServerAction<DeactivateAgent>,
    reactivate: ServerAction<ReactivateAgent>,
    reset: Action<i64, Result<String, AppError>>,
) -> impl IntoView {
    let id = row.id;
    let status = if !row.active {
        "Deactivated"
    } else if row.invited {
        "Invited"
    } else {
        "Active"
    };
    let name_for_confirm = row.name.clone();
    let is_admin = row.role == Role::Admin;
    view! {
        <tr data-email=row.email.clone()>
            <td>{row.name.clone()}</td>
            <td>{row.email.clone()}</td>
            <td>{row.role.as_str()}</td>
            <td data-testid="status">{status}</td>
            <td>
                <span class=format!("presence {}", row.presence) data-testid="presence">{row.presence.clone()}</span>
            </td>
            <td><TimeOr ms=row.last_seen_at or="never" /></td>
            <td>{row.open_tickets}</td>
            <td class="row-actions">
                <details>
                    <summary>"Edit"</summary>
                    <ActionForm action=update attr:class="form compact">
                        <input type="hidden" name="id" value=id />
                        <label>"Name" <input type="text" name="name" value=row.name.clone() required /></label>
                        <label>
                            "Role"
                            <select name="role">
                                <option value="agent" selected=!is_admin>"agent"</option>
                                <option value="admin" selected=is_admin>"admin"</option>
                            </select>
                        </label>
                        <button class="button" type="submit">"Save"</button>
                    </ActionForm>
                </details>
                {if row.active {
                    view! {
                        <button
                            class="button secondary"
                            on:click=move |_| {
                                if crate::components::confirm(&format!("Deactivate {name_for_confirm}? They are signed out at once and their open tickets return to the queue.")) {
                                    deactivate.dispatch(DeactivateAgent { id });
                                }
                            }
                        >
                            "Deactivate"
                        </button>
                        <button class="button secondary" on:click=move |_| { reset.dispatch(id); }>
                            {if row.invited { "New invitation link" } else { "Reset password" }}
                        </button>
                    }
                        .into_any()
                } else {
                    view! {
                        <button class="button secondary" on:click=move |_| { reactivate.dispatch(ReactivateAgent { id }); }>
                            "Reactivate"
                        </button>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateAgent>) -> impl IntoView {
    let (invite, set_invite) = signal(false);
    let form = NodeRef::<leptos::html::Form>::new();
    crate::components::reset_on_success(form, move || create.value().get());
    // The reset form shows "password" again.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            set_invite.set(false);
        }
    });
    let outcome = move || {
        match create.value().get() {
        Some(Ok(created)) => Some(match created.link {
            Some(link) => view! {
                <LinkNotice text=format!("Created {}. Send them this invitation link (valid 7 days, once):", created.email) link />
            }
                .into_any(),
            None => view! {
                <p class="notice" role="status">{format!("Created {}. They can sign in now.", created.email)}</p>
            }
                .into_any(),
        }),
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    view! {
        <section class="card">
            <h2>"Add an agent"</h2>
            <ActionForm action=create node_ref=form attr:class="form">
                <label>"Name" <input type="text" name="name" required /></label>
                <label>"Email" <input type="email" name="email" required /></label>
                <label>
                    "Role"
                    <select name="role">
                        <option value="agent" selected>"agent"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </label>
                <fieldset>
                    <legend>"How they sign in the first time"</legend>
                    <label class="choice">
                        <input type="radio" name="access" value="password" checked on:change=move |_| set_invite.set(false) />
                        "I set a password now"
                    </label>
                    <label class="choice">
                        <input type="radio" name="access" value="invite" on:change=move |_| set_invite.set(true) />
                        "Make an invitation link"
                    </label>
                </fieldset>
                <label hidden=invite>
                    "Initial password (at least 10 characters)"
                    <input type="password" name="password" autocomplete="new-password" minlength="10" required=move || !invite.get() disabled=invite />
                </label>
                <button class="button" type="submit" disabled=move || create.pending().get()>"Add agent"</button>
            </ActionForm>
            {outcome}
        </section>
    }
}

/// A link to pass on, shown once, easy to select and copy.
#[component]
pub fn LinkNotice(#[prop(into)] text: String, link: String) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p>{text}</p>
            <input class="copy" type="text" readonly value=link data-testid="one-time-link" aria-label="Link" />
        </div>
    }
}
