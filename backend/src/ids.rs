//! Identifiers Botpress sees, and secret tokens.
//!
//! Ids are 128 random bits behind a prefix per kind (`cus_`, `tkt_`, `agt_`), so they
//! are never reused and the kinds can never collide: Botpress keeps agent and
//! customer ids in the same tag, and a clash would attribute an agent's words to
//! the customer (docs/botpress.md §6.6).

use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub const CUSTOMER: &str = "cus_";
pub const TICKET: &str = "tkt_";
pub const AGENT: &str = "agt_";

/// `prefix` followed by 32 lowercase hex digits (128 random bits).
pub fn new_id(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", hex(&random::<16>()?)))
}

/// A secret token: 256 random bits as 64 hex digits.
pub fn new_token() -> Result<String> {
    Ok(hex(&random::<32>()?))
}

/// SHA-256 of a token, hex encoded: what tokens are stored and looked up by.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, hex encoded: proves a message
/// came from someone who holds the key.
pub fn keyed_digest(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    hex(&outer)
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_digests_are_hmac_sha256() {
        // RFC 4231, test cases 2 and 6 (a key longer than a block).
        assert_eq!(
            keyed_digest(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            keyed_digest(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn ids_have_their_prefix_and_128_bits() {
        let id = new_id(TICKET).unwrap();
        assert!(id.starts_with("tkt_"));
        assert_eq!(id.len(), 4 + 32);
        assert_ne!(new_id(TICKET).unwrap(), id);
        assert_eq!(new_token().unwrap().len(), 64);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
