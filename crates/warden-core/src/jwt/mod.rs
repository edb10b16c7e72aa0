//! JWT bearer tokens: keys from JWKS, signature with a per-key algorithm allowlist, claims.

pub(crate) mod claims;
mod keys;
mod unique;
mod verify;

pub use claims::JwtPolicy;
pub use keys::{KeySet, KeySetError, VerifyKey};
pub use verify::{verify, verify_signed, verify_until};

#[cfg(test)]
mod wycheproof;
