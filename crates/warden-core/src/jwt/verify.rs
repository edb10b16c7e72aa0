//! Verifying one bearer JWT: header checks, signature with an allowed key, then claims.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};

use super::claims::{self, JwtPolicy};
use super::keys::{KeySet, VerifyKey};
use super::unique;
use crate::identity::{Authn, Rejection, TokenProblem};

/// Verifies a compact JWS against the key set and the policy at time `now` (Unix seconds).
pub fn verify(token: &str, keys: &KeySet, policy: &JwtPolicy, now: u64) -> Authn {
    verify_until(token, keys, policy, now).0
}

/// Like [`verify`], and for a valid token also the last second it stays valid (`exp` plus
/// leeway), so a cache never keeps it longer.
pub fn verify_until(
    token: &str,
    keys: &KeySet,
    policy: &JwtPolicy,
    now: u64,
) -> (Authn, Option<u64>) {
    match verify_inner(token, keys, policy, now) {
        Ok((identity, until)) => (Authn::Authenticated(identity), Some(until)),
        Err(problem) => (Authn::Rejected(Rejection::InvalidToken(problem)), None),
    }
}

/// Checks the header (no `crit`, `typ` among `typ` when given) and the signature with an
/// allowed key, and returns the claims unjudged: for tokens whose claims the caller checks
/// itself (OpenID Connect ID and logout tokens).
pub fn verify_signed(
    token: &str,
    keys: &KeySet,
    typ: Option<&[String]>,
) -> Result<Map<String, Value>, TokenProblem> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_part, claims_part, _] = parts[..] else {
        return Err(TokenProblem::Malformed);
    };
    if !unique::members_unique(header_part) {
        return Err(TokenProblem::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| header_problem(e.kind()))?;
    check_header(&header, typ)?;
    let claims = verify_signature(token, keys, header.kid.as_deref(), header.alg)?;
    if !unique::members_unique(claims_part) {
        return Err(TokenProblem::BadClaims);
    }
    Ok(claims)
}

fn verify_inner(
    token: &str,
    keys: &KeySet,
    policy: &JwtPolicy,
    now: u64,
) -> Result<(crate::identity::Identity, u64), TokenProblem> {
    let claims = verify_signed(token, keys, policy.typ.as_deref())?;
    let mut identity = claims::check(&claims, policy, now)?;
    // `check` proved `exp` is a number after `now`; the cache may keep the token until then.
    let exp = claims.get("exp").and_then(Value::as_f64).unwrap_or(0.0);
    let until = (exp + policy.leeway as f64).floor().max(0.0) as u64;
    identity.claims = Some(std::sync::Arc::new(claims));
    Ok((identity, until.saturating_sub(1)))
}

/// `crit` must be absent and `typ` accepted; `jku`, `x5u`, `x5c` and `jwk` are never used.
fn check_header(header: &Header, typ: Option<&[String]>) -> Result<(), TokenProblem> {
    // warden understands no extension; an empty list is forbidden too (RFC 7515 §4.1.11).
    if header.crit.is_some() {
        return Err(TokenProblem::UnknownCritical);
    }
    if let Some(accepted) = typ {
        let typ = header.typ.as_deref().unwrap_or("");
        let typ = typ
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(typ, |_| &typ[12..]);
        if !accepted.iter().any(|a| a.eq_ignore_ascii_case(typ)) {
            return Err(TokenProblem::WrongType);
        }
    }
    Ok(())
}

fn verify_signature(
    token: &str,
    keys: &KeySet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<Map<String, Value>, TokenProblem> {
    let mut outcome = Err(TokenProblem::UnknownKey);
    for key in keys.candidates(kid, alg) {
        outcome = verify_with(token, key, alg);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

fn verify_with(
    token: &str,
    key: &VerifyKey,
    alg: Algorithm,
) -> Result<Map<String, Value>, TokenProblem> {
    if !key.algorithms.contains(&alg) {
        return Err(TokenProblem::AlgorithmNotAllowed);
    }
    let mut validation = Validation::new(alg);
    // Time, issuer and audience are checked by `claims::check` with the caller's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
        .map(|data| data.claims)
        .map_err(|e| signature_problem(e.kind()))
}

fn header_problem(kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm => TokenProblem::AlgorithmNotAllowed,
        _ => TokenProblem::Malformed,
    }
}

fn signature_problem(kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::InvalidSignature => TokenProblem::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            TokenProblem::AlgorithmNotAllowed
        }
        ErrorKind::Json(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidClaimFormat(_) => {
            TokenProblem::BadClaims
        }
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidEddsaKey | ErrorKind::InvalidRsaKey(_) => {
            TokenProblem::BadSignature
        }
        _ => TokenProblem::Malformed,
    }
}
