//! API key generation and hashing.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;

/// Prefix of every warden API key; lets scanners and callers recognise them.
pub const KEY_PREFIX: &str = "wdn_";

/// A freshly generated key; the plaintext is shown once and never stored.
#[derive(Clone)]
pub struct NewApiKey {
    /// Short public identifier (12 lowercase hex chars).
    pub id: String,
    /// The secret to hand to the client.
    pub plaintext: String,
    /// Hex SHA-256 of the plaintext, as stored.
    pub hash: String,
}

impl std::fmt::Debug for NewApiKey {
    // Keeps the secret out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("plaintext", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// Generates a new key: `wdn_` + base64url (no padding) of 32 random bytes.
pub fn generate() -> Result<NewApiKey, StoreError> {
    let mut secret = [0u8; 32];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| StoreError::Random)?;
    let mut id = [0u8; 6];
    aws_lc_rs::rand::fill(&mut id).map_err(|_| StoreError::Random)?;
    let plaintext = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = hash_key(&plaintext);
    Ok(NewApiKey {
        id: to_hex(&id),
        plaintext,
        hash,
    })
}

/// Hex SHA-256 of a key; a fast hash suffices because keys carry 256 random bits.
pub fn hash_key(plaintext: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, plaintext.as_bytes());
    to_hex(digest.as_ref())
}

/// True if `s` has the API key prefix (cheap pre-check before any lookup).
pub fn looks_like_key(s: &str) -> bool {
    s.starts_with(KEY_PREFIX)
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn format() {
        let k = generate().unwrap();
        assert_eq!(k.plaintext.len(), 4 + 43);
        assert!(looks_like_key(&k.plaintext));
        assert_eq!(k.id.len(), 12);
        assert!(k.id.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(k.hash, hash_key(&k.plaintext));
        assert!(!format!("{k:?}").contains(&k.plaintext));
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn prefix() {
        assert!(!looks_like_key("Bearer wdn_x"));
        assert!(!looks_like_key("wdn"));
    }
}
