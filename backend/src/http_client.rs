//! The HTTP clients Baton builds (the webhook and Botpress API clients, and those of
//! the tests and the load generators).
//!
//! TLS is rustls with *ring*'s cryptography. reqwest's default provider, aws-lc, is a
//! C library whose build took over a minute of both cores on a 2-core machine, once
//! for every profile the suite compiles; ring builds in seconds and serves HTTPS
//! webhooks the same. Installing it as the process default is what lets reqwest
//! build without its own provider, so every client goes through [`client`].

use std::sync::Once;

/// Installs ring as the process's TLS provider, once; [`client`] does it too. A
/// program that builds clients with `reqwest::Client::new()` calls it first.
pub fn install_tls_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only if a provider was installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder, with ring installed as the process's TLS provider.
pub fn client() -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_build_with_ring_installed() {
        let _client = super::client().build().unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
