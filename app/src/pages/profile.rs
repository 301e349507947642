//! One's own account: password, personal API tokens (shown once), alert settings,
//! one's own canned replies.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::auth::CurrentUser;
use crate::api::profile::{
    Alerts, ChangePassword, CreateToken, RevokeToken, SaveAlerts, TokenRow, get_alerts, list_tokens,
};
use crate::components::canned::{CannedData, CannedReplies};
use crate::components::guard::Guard;
use crate::components::session::{Session, on_signed_out};
use crate::components::time::{Shown, Time, TimeOr};
use crate::error::AppError;

/// What the page loads, and the actions whose results reload it: created by the
/// route, outside the guard (see `Guard`).
#[derive(Clone, Copy)]
struct Loaded {
    tokens: Resource<Result<Vec<TokenRow>, AppError>>,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
    alerts: Resource<Result<Alerts, AppError>>,
    canned: CannedData,
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = Session::load();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| session.then(list_tokens()),
    );
    let alerts = Resource::new(|| (), move |_| session.then(get_alerts()));
    let loaded = Loaded {
        tokens,
        create,
        revoke,
        alerts,
        canned: CannedData::load(session),
    };
    view! { <Guard session page=move |user| view! { <Profile user loaded /> } /> }
}

#[component]
fn Profile(user: CurrentUser, loaded: Loaded) -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Your profile"</h1>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>{user.name}</dd>
                <dt>"Email"</dt>
                <dd>{user.email}</dd>
                <dt>"Role"</dt>
                <dd>{user.role.as_str()}</dd>
            </dl>
        </section>
        <PasswordForm />
        <Tokens tokens=loaded.tokens create=loaded.create revoke=loaded.revoke />
        <AlertSettings alerts=loaded.alerts />
        <CannedReplies data=loaded.canned shared=false />
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    on_signed_out(move || change.value().get());
    let navigate = use_navigate();
    // Every session ends with a password change, this one too: sign in again.
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            navigate("/login", Default::default());
        }
    });
    let error = move || {
        change
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <section class="card">
            <h2>"Change password"</h2>
            <p class="muted">"You will be signed out everywhere, here too, and sign in again with the new password."</p>
            <ActionForm action=change attr:class="form">
                <label>"Current password" <input type="password" name="current" autocomplete="current-password" required /></label>
                <label>
                    "New password (at least 10 characters)"
                    <input type="password" name="new_password" autocomplete="new-password" minlength="10" required />
                </label>
                <p class="error" role="alert">{error}</p>
                <button class="button" type="submit">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Tokens(
    tokens: Resource<Result<Vec<TokenRow>, AppError>>,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    on_signed_out(move || create.value().get());
    on_signed_out(move || revoke.value().get());
    let token_form = NodeRef::<leptos::html::Form>::new();
    crate::components::reset_on_success(token_form, move || create.value().get());
    let created = move || {
        match create.value().get() {
        Some(Ok(t)) => Some(view! {
            <div class="notice" role="status">
                <p>{format!("Token \u{201c}{}\u{201d} created. Copy it now: it is shown only this once.", t.label)}</p>
                <input class="copy" type="text" readonly value=t.token data-testid="new-token" aria-label="New token" />
            </div>
        }.into_any()),
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    view! {
        <section class="card">
            <h2>"API tokens"</h2>
            <p class="muted">"For scripts and tools: send " <code>"Authorization: Bearer <token>"</code> ". A token acts as you."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || tokens.get().map(|result| match result {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"No tokens."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" data-testid="tokens">
                            <thead><tr><th>"Label"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|t| {
                                    let id = t.id;
                                    view! {
                                        <tr>
                                            <td>{t.label}</td>
                                            <td><Time ms=t.created_at shown=Shown::Full /></td>
                                            <td><TimeOr ms=t.last_used_at or="never" /></td>
                                            <td>
                                                <button class="button secondary" on:click=move |_| { revoke.dispatch(RevokeToken { id }); }>
                                                    "Revoke"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <ActionForm action=create node_ref=token_form attr:class="form inline-form">
                <label>"Label" <input type="text" name="label" placeholder="e.g. reporting script" required /></label>
                <button class="button" type="submit">"Create token"</button>
            </ActionForm>
            {created}
        </section>
    }
}

#[component]
fn AlertSettings(alerts: Resource<Result<Alerts, AppError>>) -> impl IntoView {
    let save = ServerAction::<SaveAlerts>::new();
    on_signed_out(move || save.value().get());
    let saved = move || match save.value().get() {
        Some(Ok(())) => Some(view! { <p class="notice" role="status">"Saved."</p> }.into_any()),
        Some(Err(e)) => {
            Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any())
        }
        None => None,
    };
    view! {
        <section class="card">
            <h2>"Alerts"</h2>
            <p class="muted">"How the inbox tells you that a customer is waiting."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || alerts.get().map(|result| match result {
                    Ok(a) => view! {
                        <ActionForm action=save attr:class="form">
                            <label class="choice"><input type="checkbox" name="sound" value="on" checked=a.sound />"Play a sound"</label>
                            <label class="choice"><input type="checkbox" name="desktop" value="on" checked=a.desktop />"Show a browser notification"</label>
                            <label class="choice"><input type="checkbox" name="when_focused" value="on" checked=a.when_focused />"Alert me even while Baton is the tab I am looking at"</label>
                            <button class="button" type="submit">"Save"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            {saved}
        </section>
    }
}
