//! Calls to Baton's own integration are signed, so that its webhook (a public URL on
//! Botpress's gateway) acts only on what Baton sent, and only once (docs/botpress.md
//! §15.2). plus/hitl-api cannot check a signature, so its calls stay unsigned.
//!
//! The signature is `v1=` and the hex HMAC-SHA256, keyed with the connection's
//! signing key (its text), of `<timestamp>.<body>`, the timestamp being Unix seconds.
//! The integration refuses a call whose timestamp is more than [`MAX_AGE_SECS`] away
//! from its clock.

use crate::ids;

pub const TIMESTAMP_HEADER: &str = "x-baton-timestamp";
pub const SIGNATURE_HEADER: &str = "x-baton-signature";

/// How far a signed call's timestamp may be from the receiver's clock.
pub const MAX_AGE_SECS: i64 = 300;

/// The `x-baton-signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(key: &str, timestamp: i64, body: &str) -> String {
    let message = format!("{timestamp}.{body}");
    format!(
        "v1={}",
        ids::keyed_digest(key.as_bytes(), message.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = sign("k", 1_700_000_000, r#"{"ticketId":"tkt_1"}"#);
        assert!(a.starts_with("v1=") && a.len() == 3 + 64, "{a}");
        assert_ne!(a, sign("k", 1_700_000_001, r#"{"ticketId":"tkt_1"}"#));
        assert_ne!(a, sign("k", 1_700_000_000, r#"{"ticketId":"tkt_2"}"#));
        assert_ne!(a, sign("K", 1_700_000_000, r#"{"ticketId":"tkt_1"}"#));
        // RFC 4231 test case 2 through the same keyed digest: key "Jefe".
        assert_eq!(
            ids::keyed_digest(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
