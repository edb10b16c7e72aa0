//! The hash formats nginx accepts from `htpasswd`, read once and verified per request.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA1_OUTPUT_LEN, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha_crypt::{Sha256Params, Sha512Params, sha256_crypt_b64, sha512_crypt_b64};

use super::apr1;

/// Why a line's hash cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum HashError {
    /// A scheme warden does not verify (DES crypt, plaintext, anything unknown).
    #[error("unsupported hash format")]
    Unsupported,
    /// A supported scheme whose text is damaged.
    #[error("unreadable {0} hash: {1}")]
    Unreadable(&'static str, &'static str),
}

/// Which SHA-crypt variant a `$5$` or `$6$` hash uses.
#[derive(Clone, Copy)]
pub(super) enum ShaBits {
    /// `$5$`, SHA-256.
    B256,
    /// `$6$`, SHA-512.
    B512,
}

/// A parsed hash. It holds secrets, so the parent's Debug never prints it.
#[derive(Clone)]
pub(super) enum Hash {
    /// `$2a$`, `$2b$` or `$2y$`, kept whole for the bcrypt crate.
    Bcrypt(String),
    /// `$apr1$salt$digest`.
    Apr1 { salt: String, digest: String },
    /// `{SHA}` and the decoded SHA-1 digest.
    Sha1([u8; SHA1_OUTPUT_LEN]),
    /// `$5$` or `$6$`, with the rounds it asks for (5000 when absent).
    ShaCrypt {
        bits: ShaBits,
        rounds: usize,
        salt: String,
        digest: String,
    },
}

/// SHA-crypt's rounds when the hash does not name them.
const SHA_ROUNDS_DEFAULT: usize = 5000;
/// Longest SHA-crypt salt; crypt(3) cuts longer ones, so such text never matches.
const SHA_SALT_MAX: usize = 16;

impl Hash {
    /// Reads a hash from the text after the user's `:`.
    pub(super) fn parse(text: &str) -> Result<Self, HashError> {
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
            parse_bcrypt(text)
        } else if let Some(rest) = text.strip_prefix(apr1::MAGIC) {
            parse_apr1(rest)
        } else if let Some(rest) = text.strip_prefix("{SHA}") {
            parse_sha1(rest)
        } else if let Some(rest) = text.strip_prefix("$5$") {
            parse_sha_crypt(ShaBits::B256, rest)
        } else if let Some(rest) = text.strip_prefix("$6$") {
            parse_sha_crypt(ShaBits::B512, rest)
        } else {
            Err(HashError::Unsupported)
        }
    }

    /// True if `password` produces this hash; the final comparison is constant-time.
    pub(super) fn verify(&self, password: &str) -> bool {
        match self {
            // bcrypt compares its digests with `subtle`; a hash it cannot run is a mismatch.
            Self::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            Self::Apr1 { salt, digest } => {
                let computed = apr1::digest(password.as_bytes(), salt.as_bytes());
                same(&computed, digest.as_bytes())
            }
            Self::Sha1(expected) => {
                let computed = digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes());
                same(computed.as_ref(), expected)
            }
            Self::ShaCrypt {
                bits,
                rounds,
                salt,
                digest,
            } => {
                let computed = match bits {
                    ShaBits::B256 => Sha256Params::new(*rounds)
                        .and_then(|p| sha256_crypt_b64(password.as_bytes(), salt.as_bytes(), &p)),
                    ShaBits::B512 => Sha512Params::new(*rounds)
                        .and_then(|p| sha512_crypt_b64(password.as_bytes(), salt.as_bytes(), &p)),
                };
                computed.is_ok_and(|c| same(c.as_bytes(), digest.as_bytes()))
            }
        }
    }
}

/// Constant-time equality of two digests.
fn same(a: &[u8], b: &[u8]) -> bool {
    verify_slices_are_equal(a, b).is_ok()
}

fn parse_bcrypt(text: &str) -> Result<Hash, HashError> {
    let parts = text
        .parse::<bcrypt::HashParts>()
        .map_err(|_| HashError::Unreadable("bcrypt", "malformed"))?;
    // bcrypt refuses to run outside this range, so such a line could never match.
    if !(4..=31).contains(&parts.get_cost()) {
        return Err(HashError::Unreadable("bcrypt", "cost out of range"));
    }
    Ok(Hash::Bcrypt(text.to_owned()))
}

fn parse_apr1(rest: &str) -> Result<Hash, HashError> {
    let unreadable = |why| HashError::Unreadable("apr1", why);
    let (salt, digest) = rest.split_once('$').ok_or(unreadable("missing digest"))?;
    // Apache and nginx use at most 8 salt characters and compare the whole
    // string, so a longer salt can never match there; refuse it here too.
    if salt.len() > apr1::SALT_MAX {
        return Err(unreadable("salt longer than 8 characters"));
    }
    if !is_crypt64(digest, apr1::DIGEST_LEN) {
        return Err(unreadable("digest is not 22 crypt-base64 characters"));
    }
    Ok(Hash::Apr1 {
        salt: salt.to_owned(),
        digest: digest.to_owned(),
    })
}

fn parse_sha1(rest: &str) -> Result<Hash, HashError> {
    STANDARD
        .decode(rest)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .map(Hash::Sha1)
        .ok_or(HashError::Unreadable("sha1", "not base64 of 20 bytes"))
}

fn parse_sha_crypt(bits: ShaBits, rest: &str) -> Result<Hash, HashError> {
    let (scheme, digest_len) = match bits {
        ShaBits::B256 => ("sha256-crypt", 43),
        ShaBits::B512 => ("sha512-crypt", 86),
    };
    let unreadable = |why| HashError::Unreadable(scheme, why);
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r.split_once('$').ok_or(unreadable("missing salt"))?;
            (parse_rounds(n).ok_or(unreadable("bad rounds"))?, rest)
        }
        None => (SHA_ROUNDS_DEFAULT, rest),
    };
    let (salt, digest) = rest.split_once('$').ok_or(unreadable("missing digest"))?;
    if salt.len() > SHA_SALT_MAX {
        return Err(unreadable("salt longer than 16 characters"));
    }
    if !is_crypt64(digest, digest_len) {
        return Err(unreadable("digest has the wrong length or characters"));
    }
    Ok(Hash::ShaCrypt {
        bits,
        rounds,
        salt: salt.to_owned(),
        digest: digest.to_owned(),
    })
}

/// Rounds as libxcrypt reads them: decimal, no leading zero, 1000 to 999 999 999.
fn parse_rounds(text: &str) -> Option<usize> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse()
        .ok()
        .filter(|n| (1000..=999_999_999).contains(n))
}

/// True if `text` is exactly `len` characters of crypt(3)'s base64 alphabet.
fn is_crypt64(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| apr1::ITOA64.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_are_unsupported() {
        for text in [
            "Nn/RDr0qb3ohI",
            "plain-secret",
            "$2x$05$abc",
            "{SSHA}abc",
            "",
        ] {
            assert_eq!(
                Hash::parse(text).err(),
                Some(HashError::Unsupported),
                "{text}"
            );
        }
    }

    #[test]
    fn rounds_follow_libxcrypt() {
        assert_eq!(parse_rounds("1000"), Some(1000));
        assert_eq!(parse_rounds("999999999"), Some(999_999_999));
        for bad in ["999", "05000", "", "+5000", "1e4", "1000000000"] {
            assert_eq!(parse_rounds(bad), None, "{bad}");
        }
    }

    #[test]
    fn damaged_text_is_unreadable() {
        let bad = [
            "$apr1$123456789$5sXPUzSpDP6RaQ07l6wfj/",
            "$apr1$saltsalt$5sXPUzSpDP6RaQ07l6wfj",
            "$apr1$saltsalt",
            "{SHA}not base64!",
            "{SHA}AAAA",
            "$5$rounds=999$salt$M5yVR6h.otsJ35dxQ7KjoVJtIhM4GS2Nl1mO3M24mt1",
            "$5$saltstringsaltstr$M5yVR6h.otsJ35dxQ7KjoVJtIhM4GS2Nl1mO3M24mt1",
            "$6$salt$short",
            "$2y$05$tooshort",
            "$2y$03$dyKKMYm21EM3sSMhZ6iCLeZNtEc/DFDChyzqg/JMgmZy8N8syhJjK",
        ];
        for text in bad {
            assert!(
                matches!(Hash::parse(text), Err(HashError::Unreadable(..))),
                "{text}"
            );
        }
    }
}
