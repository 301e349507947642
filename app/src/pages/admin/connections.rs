//! Admin: Botpress connections. Create one (and get the endpoint URL with setup
//! steps), edit it (secrets are write-only), rotate its token, test it, and watch its
//! health.

use leptos::prelude::*;
use protocol::integration::Integration;

use crate::api::connections::{
    ConnectionRow, CreateConnection, Endpoint, RotateConnection, ShowEndpoint, TestResult,
    UpdateConnection, list_connections, test_connection,
};
use crate::api::inbox::{AlertSettingsView, SaveAlertSettings, alert_settings};
use crate::components::guard::Guard;
use crate::components::session::{Session, on_signed_out};
use crate::components::time::{Shown, Time, TimeOr};
use crate::error::AppError;

/// What the page loads, and the actions whose results reload it: created by the
/// route, outside the guard (see `Guard`).
#[derive(Clone, Copy)]
struct Loaded {
    list: Resource<Result<Vec<ConnectionRow>, AppError>>,
    create: ServerAction<CreateConnection>,
    update: ServerAction<UpdateConnection>,
    rotate: ServerAction<RotateConnection>,
    alerts: Resource<Result<AlertSettingsView, AppError>>,
    save_alerts: ServerAction<SaveAlertSettings>,
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let session = Session::load();
    let create = ServerAction::<CreateConnection>::new();
    let update = ServerAction::<UpdateConnection>::new();
    let rotate = ServerAction::<RotateConnection>::new();
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                rotate.version().get(),
            )
        },
        move |_| session.then(list_connections()),
    );
    let save_alerts = ServerAction::<SaveAlertSettings>::new();
    let alerts = Resource::new(
        move || save_alerts.version().get(),
        move |_| session.then(alert_settings()),
    );
    let loaded = Loaded {
        list,
        create,
        update,
        rotate,
        alerts,
        save_alerts,
    };
    view! { <Guard session admin=true page=move |_| view! { <Connections loaded /> } /> }
}

#[component]
fn Connections(loaded: Loaded) -> impl IntoView {
    let Loaded {
        list,
        create,
        update,
        rotate,
        alerts,
        save_alerts,
    } = loaded;
    let show = ServerAction::<ShowEndpoint>::new();
    let test = Action::new(|id: &i64| {
        let id = *id;
        async move { (id, test_connection(id).await) }
    });
    on_signed_out(move || create.value().get());
    on_signed_out(move || update.value().get());
    on_signed_out(move || rotate.value().get());
    on_signed_out(move || show.value().get());
    on_signed_out(move || test.value().get().map(|(_, r)| r));

    // The endpoint URL, from whichever action revealed it last.
    let endpoint = move || {
        let latest = [
            create.value().get(),
            rotate.value().get(),
            show.value().get(),
        ];
        latest.into_iter().flatten().find_map(|r| r.ok())
    };
    let failure = move || {
        [
            update.value().get().and_then(|r| r.err()),
            rotate.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };

    view! {
        <section class="card">
            <h1>"Botpress connections"</h1>
            <p class="muted">
                "One connection per bot. Botpress calls Baton at the connection's endpoint URL; "
                "Baton calls the bot back at its webhook URL."
            </p>
            {failure}
            {move || endpoint().map(|e| view! { <SetupSteps endpoint=e /> })}
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                list.get()
                    .map(|result| match result {
                        Ok(rows) if rows.is_empty() => {
                            view! { <p class="card muted">"No connections yet: add your first bot below."</p> }.into_any()
                        }
                        Ok(rows) => {
                            rows.into_iter()
                                .map(|row| view! { <ConnectionCard row update rotate show test /> })
                                .collect_view()
                                .into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
            }}
        </Transition>
        <CreateForm create />
        <AlertSettings current=alerts save=save_alerts />
    }
}

/// How long a ticket may wait unclaimed, and the optional outgoing alert webhook.
#[component]
fn AlertSettings(
    current: Resource<Result<AlertSettingsView, AppError>>,
    save: ServerAction<SaveAlertSettings>,
) -> impl IntoView {
    on_signed_out(move || save.value().get());
    view! {
        <section class="card">
            <h2>"Alerts"</h2>
            <p class="muted">
                "Agents are alerted when a conversation is queued, and again when it waits "
                "unclaimed longer than this. Baton can also post new-ticket alerts to a team "
                "chat's incoming webhook (it sends JSON with a " <code>"text"</code> " field)."
            </p>
            <Transition>
                {move || current.get().map(|r| match r {
                    Ok(s) => view! {
                        <ActionForm action=save attr:class="form">
                            <label>
                                "Alert again after (minutes unclaimed)"
                                <input type="number" name="minutes" min="1" max="1440" required value=s.unclaimed_after_minutes.to_string() />
                            </label>
                            <label>
                                "Alert webhook URL (write-only)"
                                <input type="url" name="webhook_url" autocomplete="off"
                                    placeholder=s.webhook_host.clone().map_or_else(|| "none set".to_owned(), |h| format!("set: {h} (leave blank to keep)")) />
                            </label>
                            {s.webhook_host.is_some().then(|| view! {
                                <label class="check"><input type="checkbox" name="remove_webhook" value="on" /> "Remove the alert webhook"</label>
                            })}
                            <button class="button" type="submit">"Save alerts"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p role="status">"Saved."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn SetupSteps(endpoint: Endpoint) -> impl IntoView {
    let steps = match endpoint.integration {
        Integration::Baton => view! {
            <ol>
                <li>"Deploy Baton's integration to your Botpress workspace once (the "<code>"botpress-integration"</code>" folder: "<code>"npx bp login"</code>", then "<code>"npx bp deploy"</code>")."</li>
                <li>"In Botpress Studio, install it on your bot, paste the endpoint URL above as its "<strong>"Endpoint URL"</strong>" and save. It registers with Baton: "<em>"Registered"</em>" below shows when."</li>
                <li>"Install the HITL plugin and choose Baton's integration for its "<strong>"hitl"</strong>" interface."</li>
                <li>"Test a handoff: it appears in the inbox, with the conversation before it."</li>
            </ol>
        }
        .into_any(),
        Integration::HitlApi => view! {
            <ol>
                <li>"In Botpress Studio, open your bot's Integrations and install "<strong>"Human in the Loop API"</strong>" (plus/hitl-api)."</li>
                <li>"Paste the endpoint URL above as the integration's endpoint base URL and save. Botpress checks it with a ping; "<em>"Last call from Botpress"</em>" below shows when it arrived."</li>
                <li>"Copy the integration's webhook URL from the same page into this connection (Edit), if you have not yet."</li>
                <li>"Optional but recommended: add the bot id and a personal access token, so Baton can import the bot conversation and match every close reliably."</li>
                <li>"Turn on the HITL plugin in your bot and test a handoff: it appears in the inbox."</li>
            </ol>
        }
        .into_any(),
    };
    view! {
        <div class="notice" role="status" data-testid="endpoint">
            <p>
                "Endpoint URL for " <strong>{endpoint.name.clone()}</strong>
                ". It is a secret: anyone who has it can post conversations to Baton."
            </p>
            <input class="copy" type="text" readonly value=endpoint.url aria-label="Endpoint URL" />
            {steps}
        </div>
    }
}

#[component]
fn ConnectionCard(
    row: ConnectionRow,
    update: ServerAction<UpdateConnection>,
    rotate: ServerAction<RotateConnection>,
    show: ServerAction<ShowEndpoint>,
    test: Action<i64, (i64, Result<TestResult, AppError>)>,
) -> impl IntoView {
    let id = row.id;
    let name = row.name.clone();
    let api = if row.has_api_token && row.botpress_bot_id.is_some() {
        "set"
    } else {
        "not set (closes are matched by the end notice only)"
    };
    let tested = move || {
        test.value().get().filter(|(tested, _)| *tested == id).map(|(_, r)| match r {
            Ok(t) => view! { <p class=if t.ok { "ok" } else { "error" } role="status" data-testid="test-result">{t.message}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    let unmapped = row.unmapped_closes.clone();
    let token_placeholder = if row.has_api_token {
        "stored, unchanged"
    } else {
        "none"
    };
    let (edit_name, edit_bot, edit_notice) = (
        row.name.clone(),
        row.botpress_bot_id.clone().unwrap_or_default(),
        row.end_notice_text.clone(),
    );
    let own = row.integration == Integration::Baton;
    // Baton's integration: where it stands with its registration.
    let registration = own.then(|| {
        let state = match (row.registered_at, row.unregistered_at) {
            (_, Some(at)) => view! { "uninstalled " <Time ms=at shown=Shown::Full /> }.into_any(),
            (Some(at), None) => view! { <Time ms=at shown=Shown::Full /> }.into_any(),
            (None, None) => {
                "not yet: install the integration on the bot with the endpoint URL".into_any()
            }
        };
        view! {
            <dt>"Registered"</dt>
            <dd data-testid="registered">{state}</dd>
            <dt>"Integration's webhook URL"</dt>
            <dd data-testid="registered-webhook">
                {row.registered_webhook_url.clone().map_or_else(
                    || "brought by its registration".into_any(),
                    |url| view! { <code>{url}</code> }.into_any(),
                )}
            </dd>
        }
    });
    view! {
        <section class="card" data-connection=row.name.clone()>
            <h2>{row.name.clone()}</h2>
            <dl class="facts">
                <dt>"Integration"</dt>
                <dd data-testid="integration">{row.integration.label()}</dd>
                {registration}
                {(!own).then(|| view! {
                    <dt>"Bot id"</dt>
                    <dd>{row.botpress_bot_id.clone().unwrap_or_else(|| "not set".into())}</dd>
                    <dt>"Botpress API credentials"</dt>
                    <dd>{api}</dd>
                    <dt>"End notice"</dt>
                    <dd>{row.end_notice_text.clone()}</dd>
                })}
                <dt>"Created"</dt>
                <dd><Time ms=row.created_at shown=Shown::Full /></dd>
                <dt>"Last call from Botpress"</dt>
                <dd data-testid="last-inbound"><TimeOr ms=row.last_inbound_at or="never" /></dd>
                <dt>"Last delivery to the bot"</dt>
                <dd><TimeOr ms=row.last_outbound_ok_at or="never" /></dd>
                <dt>"Last failed delivery"</dt>
                <dd>
                    {match (row.last_outbound_error_at, row.last_outbound_error.clone()) {
                        (Some(at), Some(e)) => view! { <Time ms=at shown=Shown::Full /> ": " {e} }.into_any(),
                        _ => "none".into_any(),
                    }}
                </dd>
                <dt>"Unmatched close requests"</dt>
                <dd data-testid="unmapped">{unmapped.len()}</dd>
            </dl>
            {(!unmapped.is_empty())
                .then(|| {
                    view! {
                        <details>
                            <summary>"Close requests Baton could not match to a ticket"</summary>
                            <table class="table">
                                <thead><tr><th>"Botpress conversation"</th><th>"Received"</th><th>"State"</th><th>"Last error"</th></tr></thead>
                                <tbody>
                                    {unmapped
                                        .into_iter()
                                        .map(|u| view! {
                                            <tr>
                                                <td><code>{u.botpress_conversation_id}</code></td>
                                                <td><Time ms=u.received_at shown=Shown::Full /></td>
                                                <td>{u.state}</td>
                                                <td>{u.last_error.unwrap_or_default()}</td>
                                            </tr>
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </details>
                    }
                })}
            <div class="actions">
                <button class="button" on:click=move |_| { test.dispatch(id); } disabled=move || test.pending().get()>
                    "Test connection"
                </button>
                <button class="button secondary" on:click=move |_| { show.dispatch(ShowEndpoint { id }); }>
                    "Show endpoint URL"
                </button>
                <button
                    class="button secondary"
                    on:click=move |_| {
                        if crate::components::confirm(&format!("Rotate the token of {name}? The current endpoint URL stops working at once; paste the new one into Botpress.")) {
                            rotate.dispatch(RotateConnection { id });
                        }
                    }
                >
                    "Rotate token"
                </button>
            </div>
            {tested}
            <details>
                <summary>"Edit"</summary>
                <ActionForm action=update attr:class="form">
                    <input type="hidden" name="id" value=id />
                    <label>"Name" <input type="text" name="name" value=edit_name required /></label>
                    {if own {
                        // Registration brings everything else; the notice is kept as is.
                        view! { <input type="hidden" name="end_notice_text" value=edit_notice /> }.into_any()
                    } else {
                        view! {
                            <label>
                                "Webhook URL (leave blank to keep the stored one)"
                                <input type="url" name="webhook_url" placeholder="unchanged" autocomplete="off" />
                            </label>
                            <label>"Bot id" <input type="text" name="botpress_bot_id" value=edit_bot /></label>
                            <label>
                                "Personal access token (leave blank to keep the stored one)"
                                <input type="password" name="botpress_token" placeholder=token_placeholder autocomplete="off" />
                            </label>
                            <label class="choice"><input type="checkbox" name="clear_api_credentials" value="on" />"Remove the bot id and access token"</label>
                            <label>"End notice" <input type="text" name="end_notice_text" value=edit_notice required /></label>
                        }.into_any()
                    }}
                    <button class="button" type="submit">"Save"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateConnection>) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    crate::components::reset_on_success(form, move || create.value().get());
    let error = move || match create.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    // Baton's own integration needs nothing but a name; plus/hitl-api its webhook URL.
    let (hitl_api, set_hitl_api) = signal(false);
    // The reset form shows Baton's integration picked again.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            set_hitl_api.set(false);
        }
    });
    view! {
        <section class="card">
            <h2>"Add a connection"</h2>
            <ActionForm action=create node_ref=form attr:class="form">
                <label>"Name (e.g. the bot's name)" <input type="text" name="name" required /></label>
                <fieldset class="choices">
                    <legend>"The bot's integration"</legend>
                    <label class="choice">
                        <input type="radio" name="integration" value="baton" checked
                            on:change=move |_| set_hitl_api.set(false) />
                        "Baton's integration (recommended: works with the current HITL plugin)"
                    </label>
                    <label class="choice">
                        <input type="radio" name="integration" value="hitl_api"
                            on:change=move |_| set_hitl_api.set(true) />
                        "Human in the Loop API (plus/hitl-api, from the Botpress Hub)"
                    </label>
                </fieldset>
                <Show when=move || hitl_api.get()>
                    <label>
                        "Webhook URL (from the integration's page in Botpress Studio)"
                        <input type="url" name="webhook_url" placeholder="https://webhook.botpress.cloud/…" autocomplete="off" required />
                    </label>
                    <label>"Bot id (optional)" <input type="text" name="botpress_bot_id" autocomplete="off" /></label>
                    <label>
                        "Personal access token (optional)"
                        <input type="password" name="botpress_token" autocomplete="off" />
                    </label>
                </Show>
                <p class="error" role="alert">{error}</p>
                <button class="button" type="submit" disabled=move || create.pending().get()>"Add connection"</button>
            </ActionForm>
        </section>
    }
}
