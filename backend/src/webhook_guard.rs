//! Where Baton may send webhooks. Admins type webhook URLs (a bot's, the alert
//! webhook); without a guard they could point Baton at itself, at the cloud's
//! metadata service (169.254.169.254) or at anything on the private network, and
//! read what comes back through "Test connection". So, unless the operator allows it
//! (`--allow-private-webhooks`, for tests and on-premise bots), webhooks go only to
//! public addresses: a host name is resolved and only its public addresses are used
//! (the connection goes to exactly those, so a second lookup cannot swap in a
//! private one), and an address written into the URL must be public itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{Error, Result};

/// Whether `ip` is reachable on the public internet (not loopback, private,
/// link-local, shared, multicast, documentation or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// The refusal, in words for the admin who typed the URL.
fn refused(host: &str) -> String {
    format!(
        "{host} is a private or local address; Baton sends webhooks only to public \
         addresses unless it is started with --allow-private-webhooks"
    )
}

/// Checks a webhook URL's host when it is an address: host names are checked when
/// they are resolved (see [`PublicOnly`]).
pub fn check_url(url: &str, allow_private: bool) -> Result<()> {
    if allow_private {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::invalid(format!("the webhook URL is not valid: {e}")))?;
    // IPv6 hosts come bracketed ("[::1]").
    let ip = parsed
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok());
    match ip {
        Some(ip) if !is_public(ip) => Err(Error::invalid(refused(&ip.to_string()))),
        _ => Ok(()),
    }
}

/// A DNS resolver that hands the connection only the public addresses of a name.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(
                    Box::new(Refused(refused(&host))) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "192.0.2.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn addresses_in_urls_are_checked_unless_allowed() {
        assert!(check_url("http://127.0.0.1:9/hook", false).is_err());
        assert!(check_url("http://[::1]/hook", false).is_err());
        assert!(check_url("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_url("https://203.0.114.5/hook", false).is_ok());
        assert!(
            check_url("https://webhook.botpress.cloud/abc", false).is_ok(),
            "names: at resolution"
        );
        assert!(check_url("http://127.0.0.1:9/hook", true).is_ok());
    }

    #[tokio::test]
    async fn names_that_resolve_only_to_private_addresses_are_refused() {
        use reqwest::dns::Resolve;
        let refused = PublicOnly.resolve("localhost".parse().unwrap()).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("--allow-private-webhooks"), "{message}");
    }
}
