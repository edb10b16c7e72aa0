//! Minting JWTs with the test keys, and building hostile ones by hand.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::data_file;

/// The test signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// `es256.pem`, kid `es-1` (in the JWKS).
    Es256,
    /// `rs256.pem`, kid `rs-1` (in the JWKS).
    Rs256,
    /// `ed25519.pem`, kid `ed-1` (in the JWKS).
    Ed25519,
    /// `other.pem`: a P-256 key NOT in the JWKS.
    Other,
}

impl Signer {
    /// The key's `kid` in the JWKS (for `Other`, a kid the JWKS does not have).
    pub fn kid(self) -> &'static str {
        match self {
            Self::Es256 => "es-1",
            Self::Rs256 => "rs-1",
            Self::Ed25519 => "ed-1",
            Self::Other => "other-1",
        }
    }

    /// The algorithm the key signs with.
    pub fn alg(self) -> Algorithm {
        match self {
            Self::Es256 | Self::Other => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
            Self::Ed25519 => Algorithm::EdDSA,
        }
    }

    /// The private key.
    pub fn key(self) -> EncodingKey {
        let pem = |name: &str| std::fs::read(data_file(name)).unwrap();
        match self {
            Self::Es256 => EncodingKey::from_ec_pem(&pem("es256.pem")).unwrap(),
            Self::Other => EncodingKey::from_ec_pem(&pem("other.pem")).unwrap(),
            Self::Rs256 => EncodingKey::from_rsa_pem(&pem("rs256.pem")).unwrap(),
            Self::Ed25519 => EncodingKey::from_ed_pem(&pem("ed25519.pem")).unwrap(),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Valid claims for the standard config: issuer, audience, 10 minutes of life.
pub fn claims(sub: &str, roles: &[&str], scope: &str) -> Value {
    let now = now();
    json!({
        "iss": "https://idp.example",
        "aud": "api",
        "sub": sub,
        "roles": roles,
        "scope": scope,
        "iat": now,
        "exp": now + 600,
    })
}

/// Signs `claims` with the signer's key, its alg and kid.
pub fn mint(signer: Signer, claims: &Value) -> String {
    let mut header = Header::new(signer.alg());
    header.kid = Some(signer.kid().to_owned());
    mint_with(&header, signer, claims)
}

/// Signs with an explicit header.
pub fn mint_with(header: &Header, signer: Signer, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &signer.key()).unwrap()
}

/// An ES256 token for `sub` with roles and scope.
pub fn token(sub: &str, roles: &[&str], scope: &str) -> String {
    mint(Signer::Es256, &claims(sub, roles, scope))
}

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `b64(header).b64(claims)`, the JWS signing input.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
}

/// A compact JWS with a hand-written header, signed with `key` as `alg`.
pub fn raw_signed(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = signing_input(header, claims);
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{sig}")
}

/// A compact JWS with a hand-written header and an empty signature.
pub fn raw_unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.", signing_input(header, claims))
}
