//! Claim checks with the caller's clock, and reading roles and scopes out of the claims.

use serde_json::{Map, Value};

use crate::identity::{AuthMethod, Identity, TokenProblem};

/// What a valid token must say, from `[authn.jwt]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtPolicy {
    /// `iss` must equal this exactly.
    pub issuer: String,
    /// `aud` must contain one of these.
    pub audience: Vec<String>,
    /// Claim holding roles; dots walk into objects (`realm_access.roles`).
    pub roles_claim: String,
    /// Claim holding scopes.
    pub scopes_claim: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub leeway: u64,
    /// Accepted `typ` header values (`None`: any).
    pub typ: Option<Vec<String>>,
}

/// Checks `exp` (required), `nbf`, `iat`, `iss`, `aud` and `sub`, then builds the identity.
pub(crate) fn check(
    claims: &Map<String, Value>,
    policy: &JwtPolicy,
    now: u64,
) -> Result<Identity, TokenProblem> {
    let exp = numeric(claims, "exp")?.ok_or(TokenProblem::BadClaims)?;
    // RFC 7519: the current time must be before `exp`; leeway absorbs clock skew.
    if now as f64 >= exp + policy.leeway as f64 {
        return Err(TokenProblem::Expired);
    }
    for early in ["nbf", "iat"] {
        if numeric(claims, early)?.is_some_and(|t| t > (now + policy.leeway) as f64) {
            return Err(TokenProblem::NotYetValid);
        }
    }
    if claims.get("iss").and_then(Value::as_str) != Some(policy.issuer.as_str()) {
        return Err(TokenProblem::WrongIssuer);
    }
    if !audience_matches(claims.get("aud"), &policy.audience) {
        return Err(TokenProblem::WrongAudience);
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(TokenProblem::BadClaims)?;
    let roles = string_list(lookup(claims, &policy.roles_claim))?;
    let scopes = string_list(lookup(claims, &policy.scopes_claim))?;
    // Identity headers join roles with `,` and scopes with spaces: an item holding its own
    // separator (a role `viewer,admin`) would read as two to the upstream.
    if roles.iter().any(|r| r.contains(','))
        || scopes.iter().any(|s| s.contains(char::is_whitespace))
    {
        return Err(TokenProblem::BadClaims);
    }
    Ok(Identity {
        subject: subject.to_owned(),
        roles,
        scopes,
        method: AuthMethod::Jwt,
        acr: acr(claims)?,
        auth_time: auth_time(claims)?,
        claims: None,
    })
}

/// `acr` (RFC 9470 §4): absent is `None`, anything but a string is a bad claim.
pub(crate) fn acr(claims: &Map<String, Value>) -> Result<Option<String>, TokenProblem> {
    match claims.get("acr") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenProblem::BadClaims),
    }
}

/// `auth_time` (RFC 9470 §4), a NumericDate: fractions are dropped, negatives are bad claims.
pub(crate) fn auth_time(claims: &Map<String, Value>) -> Result<Option<u64>, TokenProblem> {
    match numeric(claims, "auth_time")? {
        None => Ok(None),
        Some(t) if t >= 0.0 && t.is_finite() => Ok(Some(t as u64)),
        Some(_) => Err(TokenProblem::BadClaims),
    }
}

/// A NumericDate claim: absent is `None`, anything but a number is a bad claim.
pub(crate) fn numeric(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<f64>, TokenProblem> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or(TokenProblem::BadClaims),
    }
}

pub(crate) fn audience_matches(aud: Option<&Value>, accepted: &[String]) -> bool {
    match aud {
        Some(Value::String(s)) => accepted.iter().any(|a| a == s),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|s| accepted.iter().any(|a| a == s)),
        _ => false,
    }
}

pub(crate) fn lookup<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

/// A claim given as a space-separated string or an array of strings.
pub(crate) fn string_list(value: Option<&Value>) -> Result<Vec<String>, TokenProblem> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(TokenProblem::BadClaims))
            .collect(),
        Some(_) => Err(TokenProblem::BadClaims),
    }
}
