//! Notes when a signed-in person was last active (the admin's agent list shows it,
//! and presence is derived from it). API tokens do the same in their extractor.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn touch(
    State(services): State<backend::Services>,
    request: Request,
    next: Next,
) -> Response {
    let user = request
        .extensions()
        .get::<backend::auth::AuthSession>()
        .and_then(|auth| auth.user.as_ref().map(|u| u.user.id));
    if let Some(user) = user
        && let Err(e) = services.last_seen.touch(&*services.store, user).await
    {
        // Presence is a nicety; the request itself must not fail over it.
        tracing::warn!(error = %e, "cannot record last seen");
    }
    next.run(request).await
}
