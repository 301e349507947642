//! Browser-facing protections that apply to every route.
//!
//! - Headers: no MIME sniffing, no referrer, no framing, and a deny-all CSP for
//!   anything that is not a page (pages set their own nonce-based policy).
//! - CSRF: a state-changing request (anything but GET, HEAD, OPTIONS) that a browser
//!   marks as coming from another site is refused with 403. Browsers send
//!   `Sec-Fetch-Site`, and `Origin` on cross-origin requests; programs (Botpress, curl,
//!   scripts with an API token) send neither and carry no cookies, so they pass.
//!   Session cookies are also `SameSite=Strict`; this check does not rely on it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ErrorBody;

/// The scheme, host and port a browser shows as our `Origin`.
#[derive(Clone, Debug)]
pub struct PublicOrigin(pub String);

impl PublicOrigin {
    pub fn from_public_url(public_url: &str) -> Self {
        let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
        let host = rest.split('/').next().unwrap_or(rest);
        PublicOrigin(format!("{scheme}://{host}").to_ascii_lowercase())
    }
}

pub async fn reject_cross_site(
    State(origin): State<PublicOrigin>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || is_same_site(&origin, &request)
    {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        origin = ?request.headers().get(header::ORIGIN),
        "refused a cross-site request"
    );
    let body = ErrorBody {
        error: "cross-site request refused".into(),
    };
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

fn is_same_site(origin: &PublicOrigin, request: &Request) -> bool {
    is_same_site_headers(origin, request.headers())
}

/// For websockets: the Origin a browser sent must be ours. Unlike plain requests, a
/// websocket handshake carries no `Sec-Fetch-Site`, and a missing Origin is refused.
pub fn origin_allowed(origin: &PublicOrigin, headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN) && is_same_site_headers(origin, headers)
}

fn is_same_site_headers(origin: &PublicOrigin, headers: &axum::http::HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user typed the address or used a bookmark.
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(sent) => {
            let sent = sent.to_ascii_lowercase();
            // Our configured public origin, or (behind a proxy that keeps Host) the
            // host the browser addressed.
            sent == origin.0
                || headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|host| {
                        let host = host.to_ascii_lowercase();
                        sent == format!("http://{host}") || sent == format!("https://{host}")
                    })
        }
    }
}

/// Headers every response carries.
pub fn header_layers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    [
        SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
    ]
}

/// `Strict-Transport-Security` when Baton is served over https: browsers then never
/// try plain http for it again (a year), so nobody on the path can strip TLS.
pub async fn hsts(
    axum::extract::State(origin): axum::extract::State<PublicOrigin>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if origin.0.starts_with("https://") {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_drops_the_path() {
        assert_eq!(
            PublicOrigin::from_public_url("https://Baton.example.com:8443/inbox").0,
            "https://baton.example.com:8443"
        );
    }
}
