//! Where invitation and password-reset links lead: choose a password, then in.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::auth::{UseLink, describe_link};
use crate::components::layout::PublicHeader;

#[component]
pub fn WelcomePage() -> impl IntoView {
    let token = move || use_query_map().read().get("token").unwrap_or_default();
    let link = Resource::new(token, describe_link);
    let submit = ServerAction::<UseLink>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            navigate("/inbox", Default::default());
        }
    });
    let error = move || {
        submit
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <PublicHeader />
        <main id="main" class="page">
        <section class="card narrow">
            <Suspense fallback=|| view! { <p>"Checking the link…"</p> }>
                {move || link.get().map(|result| match result {
                    Ok(info) => view! {
                        <h1>{if info.purpose == "invite" { "Welcome to Baton" } else { "Choose a new password" }}</h1>
                        <p>{format!("Hello {}. Choose a password for {}.", info.name, info.email)}</p>
                        <ActionForm action=submit attr:class="form">
                            <input type="hidden" name="token" value=token />
                            <input type="email" name="email" value=info.email.clone() autocomplete="username" hidden readonly />
                            <label>
                                "Password (at least 10 characters)"
                                <input type="password" name="password" autocomplete="new-password" minlength="10" required />
                            </label>
                            <p class="error" role="alert">{error}</p>
                            <button class="button" type="submit" disabled=move || submit.pending().get()>"Set password and sign in"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! {
                        <h1>"This link does not work"</h1>
                        <p class="error" role="alert">{e.to_string()}</p>
                        <a href="/login">"Go to sign in"</a>
                    }.into_any(),
                })}
            </Suspense>
        </section>
        </main>
    }
}
