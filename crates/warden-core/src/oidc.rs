//! OpenID Connect claim checks: the ID token of a sign-in (OIDC Core §3.1.3.7) and the
//! logout token of a back-channel logout (OIDC Back-Channel Logout §2.6). Signatures are
//! checked first by [`crate::jwt::verify_signed`]; these functions judge the claims, with the
//! caller's clock.

use serde_json::{Map, Value};

use crate::jwt::claims::{audience_matches, lookup, numeric, string_list};

/// What an ID token must say.
#[derive(Debug, Clone)]
pub struct IdTokenCheck<'a> {
    /// The provider's issuer, compared exactly.
    pub issuer: &'a str,
    /// This relying party's client id: in `aud`, and `azp` when present.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request; `None` after a refresh (OIDC Core
    /// §12.2: a refreshed ID token need not carry one).
    pub nonce: Option<&'a str>,
    /// Claim naming the subject (`sub` unless configured).
    pub subject_claim: &'a str,
    /// Claim holding roles, if any.
    pub roles_claim: Option<&'a str>,
    /// Clock skew allowed, in seconds.
    pub leeway: u64,
}

/// Who signed in, as the ID token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The subject (the configured claim).
    pub subject: String,
    /// Roles from the roles claim.
    pub roles: Vec<String>,
    /// Authentication context class (`acr`).
    pub acr: Option<String>,
    /// Authentication methods (`amr`).
    pub amr: Vec<String>,
    /// When the user authenticated (`auth_time`), Unix seconds.
    pub auth_time: Option<i64>,
    /// The provider's session id (`sid`), for back-channel logout.
    pub sid: Option<String>,
    /// The token's `exp`, Unix seconds.
    pub expires_at: i64,
}

/// Why an OIDC token was refused (the sign-in answers 400, never a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OidcTokenProblem {
    /// A required claim is missing or has the wrong type.
    #[error("a required claim is missing or malformed")]
    BadClaims,
    /// `iss` is not the provider's issuer.
    #[error("the issuer does not match")]
    WrongIssuer,
    /// `aud` or `azp` does not name this client.
    #[error("the audience does not name this client")]
    WrongAudience,
    /// `exp` is past.
    #[error("the token expired")]
    Expired,
    /// `iat` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `nonce` differs from the one sent.
    #[error("the nonce does not match")]
    WrongNonce,
    /// A logout token without the back-channel event, or with a `nonce`.
    #[error("not a logout token")]
    NotLogout,
}

/// Judges an ID token's claims at `now`.
pub fn check_id_token(
    claims: &Map<String, Value>,
    check: &IdTokenCheck<'_>,
    now: u64,
) -> Result<SignedIn, OidcTokenProblem> {
    let (expires_at, _) = common(claims, check.issuer, check.client_id, check.leeway, now)?;
    if let Some(azp) = claims.get("azp")
        && azp.as_str() != Some(check.client_id)
    {
        return Err(OidcTokenProblem::WrongAudience);
    }
    // The nonce is compared in the open: it comes inside a token the provider signed, so
    // timing tells an attacker nothing they could use.
    let nonce = claims.get("nonce").and_then(Value::as_str);
    if check.nonce.is_some_and(|sent| nonce != Some(sent)) {
        return Err(OidcTokenProblem::WrongNonce);
    }
    let subject = text(claims, check.subject_claim)?.ok_or(OidcTokenProblem::BadClaims)?;
    let roles = match check.roles_claim {
        Some(claim) => {
            string_list(lookup(claims, claim)).map_err(|_| OidcTokenProblem::BadClaims)?
        }
        None => Vec::new(),
    };
    if roles.iter().any(|r| r.is_empty() || r.contains(',')) {
        return Err(OidcTokenProblem::BadClaims);
    }
    let amr = string_list(claims.get("amr")).map_err(|_| OidcTokenProblem::BadClaims)?;
    Ok(SignedIn {
        subject,
        roles,
        acr: text(claims, "acr")?,
        amr,
        auth_time: time(claims, "auth_time")?,
        sid: text(claims, "sid")?,
        expires_at,
    })
}

/// Whose sessions a logout token ends: the subject, the provider session, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `sub`, when given.
    pub subject: Option<String>,
    /// `sid`, when given.
    pub sid: Option<String>,
    /// `iat`: only sessions begun before it (give or take the leeway) are ended.
    pub issued_at: i64,
}

/// The event a logout token must carry.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Judges a logout token's claims at `now`.
pub fn check_logout_token(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    leeway: u64,
    now: u64,
) -> Result<LogoutRequest, OidcTokenProblem> {
    let (_, issued_at) = common(claims, issuer, client_id, leeway, now)?;
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_EVENT));
    if !event.is_some_and(Value::is_object) || claims.contains_key("nonce") {
        return Err(OidcTokenProblem::NotLogout);
    }
    text(claims, "jti")?.ok_or(OidcTokenProblem::BadClaims)?;
    let request = LogoutRequest {
        subject: text(claims, "sub")?,
        sid: text(claims, "sid")?,
        issued_at,
    };
    if request.subject.is_none() && request.sid.is_none() {
        return Err(OidcTokenProblem::BadClaims);
    }
    Ok(request)
}

/// `iss`, `aud`, `exp` (required) and `iat` (required, not in the future); returns both.
fn common(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    leeway: u64,
    now: u64,
) -> Result<(i64, i64), OidcTokenProblem> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(OidcTokenProblem::WrongIssuer);
    }
    if !audience_matches(claims.get("aud"), &[client_id.to_owned()]) {
        return Err(OidcTokenProblem::WrongAudience);
    }
    let exp = time(claims, "exp")?.ok_or(OidcTokenProblem::BadClaims)?;
    let iat = time(claims, "iat")?.ok_or(OidcTokenProblem::BadClaims)?;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let leeway = i64::try_from(leeway).unwrap_or(0);
    if now >= exp.saturating_add(leeway) {
        return Err(OidcTokenProblem::Expired);
    }
    if iat > now.saturating_add(leeway) {
        return Err(OidcTokenProblem::NotYetValid);
    }
    Ok((exp, iat))
}

/// A non-empty string claim; absent is `None`, another type a bad claim.
fn text(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, OidcTokenProblem> {
    match lookup(claims, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(OidcTokenProblem::BadClaims),
    }
}

/// A NumericDate claim as whole seconds.
fn time(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, OidcTokenProblem> {
    let value = numeric(claims, name).map_err(|_| OidcTokenProblem::BadClaims)?;
    Ok(value.map(|t| t.floor() as i64))
}

#[cfg(test)]
mod tests;
