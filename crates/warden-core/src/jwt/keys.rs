//! Verification keys from a JWKS document, each with the algorithms it may be used with.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

const RSA_ALGS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// One usable public key.
#[derive(Clone)]
pub struct VerifyKey {
    /// The `kid`, when the JWKS gives one.
    pub kid: Option<String>,
    /// The only algorithms this key verifies (never `none`, never HS).
    pub algorithms: Vec<Algorithm>,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// The keys tokens are verified with.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyKey>,
}

/// A JWKS document that yields no usable key.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    /// Not JSON, or no `keys` array.
    #[error("not a JWKS document: {0}")]
    NotJwks(String),
    /// Every key was skipped.
    #[error("no usable signature key in the JWKS ({0})")]
    NoUsableKey(String),
}

impl KeySet {
    /// Parses a JWKS, skipping encryption, symmetric and unsupported keys.
    pub fn from_jwks(json: &[u8]) -> Result<Self, KeySetError> {
        let doc: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| KeySetError::NotJwks(e.to_string()))?;
        let entries = doc
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| KeySetError::NotJwks("missing `keys` array".into()))?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match usable_key(entry) {
                Ok(key) => keys.push(key),
                Err(why) => skipped.push(format!("key {i}: {why}")),
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey(skipped.join("; ")));
        }
        Ok(Self { keys })
    }

    /// The keys in document order.
    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }

    /// Whether any key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Keys to try for a token header: by `kid` when given, else every key allowing `alg`.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a VerifyKey> {
        self.keys.iter().filter(move |k| match kid {
            Some(kid) => k.kid.as_deref() == Some(kid),
            None => k.algorithms.contains(&alg),
        })
    }
}

fn usable_key(entry: &serde_json::Value) -> Result<VerifyKey, String> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| format!("unreadable: {e}"))?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("an encryption key".into());
    }
    let family = family_algorithms(&jwk.algorithm)?;
    let algorithms = match jwk.common.key_algorithm {
        Some(declared) => {
            let alg: Algorithm = declared
                .to_string()
                .parse()
                .map_err(|_| format!("algorithm `{declared}` is not supported"))?;
            if !family.contains(&alg) {
                return Err(format!("algorithm `{declared}` does not fit the key type"));
            }
            vec![alg]
        }
        None => family,
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable: {e}"))?;
    Ok(VerifyKey {
        kid: jwk.common.key_id.clone(),
        algorithms,
        key,
    })
}

/// The asymmetric algorithms a key type can serve; symmetric keys are refused outright.
fn family_algorithms(params: &AlgorithmParameters) -> Result<Vec<Algorithm>, String> {
    match params {
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Ok(vec![Algorithm::ES256]),
            EllipticCurve::P384 => Ok(vec![Algorithm::ES384]),
            _ => Err("unsupported curve".into()),
        },
        AlgorithmParameters::RSA(_) => Ok(RSA_ALGS.to_vec()),
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Ok(vec![Algorithm::EdDSA])
        }
        AlgorithmParameters::OctetKey(_) => Err("symmetric keys are not accepted".into()),
        _ => Err("unsupported key type".into()),
    }
}
