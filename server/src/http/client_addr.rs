//! Which address a request came from, worked out once per request for the sign-in
//! limits and the audit log. Behind a reverse proxy the TCP peer is the proxy, and
//! the client is in `X-Forwarded-For`; only a proxy we were told to trust may say so,
//! or anyone could write any address there and step around the limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use backend::auth::ClientAddr;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

/// Attaches the request's [`ClientAddr`].
pub async fn attach(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client = resolve(peer.ip(), &forwarded, &trusted.0);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// Walks `X-Forwarded-For` from the right (the hop nearest to us) for as long as
/// the address in hand is a trusted proxy; the first untrusted one is the client.
/// A garbled entry stops the walk at the last address known to be real.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let mut client = peer.to_canonical();
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        if !trusted.iter().any(|net| net.contains(&client)) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => client = ip.to_canonical(),
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            resolve(ip("127.0.0.1"), &["203.0.113.7"], &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &["203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
        // Two proxies of ours in a row, the header split over two lines.
        assert_eq!(
            resolve(
                ip("127.0.0.1"),
                &["198.51.100.1, 203.0.113.7", "10.1.2.3"],
                &trusted
            ),
            ip("203.0.113.7")
        );
        // An IPv4 peer seen through an IPv6 socket is still the same address.
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &["203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn what_the_client_wrote_itself_is_not_believed() {
        let trusted = nets(&["127.0.0.1/32"]);
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real one.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["1.2.3.4, 203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
        // An untrusted peer's header counts for nothing.
        assert_eq!(
            resolve(ip("192.0.2.9"), &["1.2.3.4"], &trusted),
            ip("192.0.2.9")
        );
        // Garbage stops the walk at the last real address.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["not-an-ip"], &trusted),
            ip("127.0.0.1")
        );
    }
}
