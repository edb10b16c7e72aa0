//! Password hashing with argon2id (the argon2 crate's default parameters).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::StoreError;

/// Hashes a password into a PHC string with a fresh 16-byte random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| StoreError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

/// True if `password` matches the PHC string; false on mismatch or a malformed hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // argon2 compares the outputs in constant time.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A process-wide PHC hash to verify against when the user does not exist.
///
/// Verifying against it costs the same argon2 work as a real user's hash, so
/// response time does not reveal whether a name exists.
pub fn dummy_hash() -> Result<&'static str, StoreError> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("warden-dummy-password").ok())
        .as_deref()
        .ok_or_else(|| StoreError::Hash("dummy hash unavailable".to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hash_and_verify() {
        let phc = hash_password("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"));
        assert!(verify_password("s3cret", &phc));
        assert!(!verify_password("s3cret ", &phc));
        assert!(!verify_password("s3cret", "not a phc string"));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password("x").unwrap(), hash_password("x").unwrap());
    }

    #[test]
    fn dummy_is_stable_and_valid() {
        let a = dummy_hash().unwrap();
        assert_eq!(a, dummy_hash().unwrap());
        assert!(a.starts_with("$argon2id$"));
        assert!(!verify_password("", a));
    }
}
