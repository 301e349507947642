//! First run: create the first admin from the one-time link the server printed.
//! The link is checked before the form is shown, so a used or expired link says so
//! at once instead of offering a form that can only fail.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::auth::{Setup, setup_link_usable};
use crate::components::layout::PublicHeader;

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let token = move || use_query_map().read().get("token").unwrap_or_default();
    let usable = Resource::new(token, setup_link_usable);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = setup.value().get() {
            navigate("/inbox", Default::default());
        }
    });
    let error = move || match setup.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <PublicHeader />
        <main id="main" class="page">
        <section class="card narrow">
            <h1>"Welcome to Baton"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Checking the link…"</p> }>
                {move || usable.get().map(|ok| if matches!(ok, Ok(true)) {
                    view! {
                        <p>"Create the first admin account. This link works once."</p>
                        <ActionForm action=setup attr:class="form">
                            <input type="hidden" name="token" value=token />
                            <label>"Your name" <input type="text" name="name" autocomplete="name" required /></label>
                            <label>
                                "Email" <input type="email" name="email" autocomplete="username" required />
                            </label>
                            <label>
                                "Password (at least 10 characters)"
                                <input type="password" name="password" autocomplete="new-password" minlength="10" required />
                            </label>
                            <p class="error" role="alert">{error}</p>
                            <button class="button" type="submit" disabled=move || setup.pending().get()>
                                "Create admin account"
                            </button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <div data-testid="setup-unavailable">
                            <p>
                                "This setup link cannot be used: it was used already, it expired, "
                                "or Baton already has accounts."
                            </p>
                            <p><a href="/login">"Go to sign in"</a></p>
                        </div>
                    }.into_any()
                })}
            </Suspense>
        </section>
        </main>
    }
}
