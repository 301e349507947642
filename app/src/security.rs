//! The page's Content Security Policy. Leptos puts inline scripts in every page (the
//! hydration bootstrap, resolved resources) and marks them with a per-response nonce;
//! the policy allows exactly those, our own files, and the wasm module. Images and
//! media come from Baton only: customers' media are copied when they arrive (see
//! `backend::media`), so no third party learns who opened a ticket, or when.

#[cfg(feature = "ssr")]
pub fn set_content_security_policy() {
    use http::HeaderValue;
    use http::header::CONTENT_SECURITY_POLICY;
    use leptos::nonce::use_nonce;
    use leptos::prelude::use_context;

    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; media-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    match HeaderValue::from_str(&policy) {
        Ok(value) => response.insert_header(CONTENT_SECURITY_POLICY, value),
        Err(e) => tracing::error!(error = %e, "invalid content security policy"),
    }
}
