//! The sign-in page.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{Login, me};
use crate::components::layout::PublicHeader;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let already = Resource::new(|| (), |_| me());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            navigate("/inbox", Default::default());
        }
    });
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <Suspense>
            {move || {
                matches!(already.get(), Some(Ok(Some(_)))).then(|| view! { <Redirect path="/inbox" /> })
            }}
        </Suspense>
        <PublicHeader />
        <main id="main" class="page">
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=login attr:class="form">
                <label>
                    "Email" <input type="email" name="email" autocomplete="username" required />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <p class="error" role="alert">
                    {error}
                </p>
                <button class="button" type="submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="muted">
                "Forgot your password? Ask an admin for a reset link (Agents, Reset password)."
            </p>
        </section>
        </main>
    }
}
