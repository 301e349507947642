//! Password hashing with Argon2id, off the async threads.
//!
//! Verification of an unknown account runs against a fixed dummy hash, so the time a
//! sign-in takes does not reveal whether the email exists.

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::{Error, Result};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 1024;

/// A valid hash of a random password nobody knows, computed once.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let secret = crate::ids::new_token().ok()?;
    Argon2::default()
        .hash_password(secret.as_bytes())
        .ok()
        .map(|h| h.to_string())
});

/// Checks the rules a new password must meet.
pub fn validate(password: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Error::invalid(format!(
            "the password must be at least {MIN_LENGTH} characters long"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(Error::invalid(format!(
            "the password must be at most {MAX_LENGTH} bytes long"
        )));
    }
    Ok(())
}

/// Hashes a password (PHC string, Argon2id with default parameters).
pub async fn hash(password: String) -> Result<String> {
    validate(&password)?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

/// Whether `password` matches `stored`. With no stored hash (unknown account, or no
/// password set yet) the same work is done against the dummy hash and `false` returned.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (
                DUMMY_HASH
                    .clone()
                    .ok_or_else(|| Error::Internal("no dummy password hash".into()))?,
                false,
            ),
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        Ok(real && matches)
    })
    .await
    .map_err(|e| Error::Internal(format!("password check task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_reject() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(stored))
                .await
                .unwrap()
        );
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("short").is_err());
        assert!(validate("long enough!").is_ok());
    }
}
