//! RFC 7662 token introspection: what an authorization server's answer means. The call is the
//! server's; this judges the JSON object it answered, with the caller's clock.

use serde_json::{Map, Value};

use crate::identity::{AuthMethod, Authn, Identity, Rejection, TokenProblem};
use crate::jwt::claims::{acr, audience_matches, auth_time, lookup, numeric, string_list};

/// What an active token must say, from `[authn.introspection]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionPolicy {
    /// `iss` must equal this, when set.
    pub issuer: Option<String>,
    /// `aud` must contain one of these (empty: not checked).
    pub audience: Vec<String>,
    /// Claim holding roles; dots walk into objects (`None`: no roles).
    pub roles_claim: Option<String>,
    /// Claim holding scopes: a space-separated string or an array.
    pub scopes_claim: String,
}

/// Judges an introspection answer at `now` (Unix seconds): the verdict and, for an active
/// token, its `exp` (a cache must not outlive it). An object without a boolean `active` is no
/// introspection answer: `Unavailable`, since the token was not judged.
pub fn judge(
    answer: &Map<String, Value>,
    policy: &IntrospectionPolicy,
    now: u64,
) -> (Authn, Option<u64>) {
    match answer.get("active") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return (reject(TokenProblem::Inactive), None),
        _ => return (Authn::Unavailable, None),
    }
    match active(answer, policy, now) {
        Ok((identity, exp)) => (Authn::Authenticated(identity), exp),
        Err(problem) => (reject(problem), None),
    }
}

fn reject(problem: TokenProblem) -> Authn {
    Authn::Rejected(Rejection::InvalidToken(problem))
}

/// The checks on an active token: `exp` not past, `iss` and `aud` when configured, a plain
/// bearer token (not sender-constrained), a subject; then roles, scopes, `acr`, `auth_time`.
fn active(
    answer: &Map<String, Value>,
    policy: &IntrospectionPolicy,
    now: u64,
) -> Result<(Identity, Option<u64>), TokenProblem> {
    let exp = numeric(answer, "exp")?;
    if exp.is_some_and(|exp| now as f64 >= exp) {
        return Err(TokenProblem::Expired);
    }
    if let Some(issuer) = &policy.issuer
        && answer.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
    {
        return Err(TokenProblem::WrongIssuer);
    }
    if !policy.audience.is_empty() && !audience_matches(answer.get("aud"), &policy.audience) {
        return Err(TokenProblem::WrongAudience);
    }
    // A DPoP or mTLS-bound token (`cnf`, `token_type` `DPoP`) is only valid with a proof of
    // possession that a Bearer request does not carry (RFC 9449 §7.1, RFC 8705 §3).
    let bearer = (answer.get("token_type").and_then(Value::as_str))
        .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
    if !bearer || answer.contains_key("cnf") {
        return Err(TokenProblem::WrongType);
    }
    let identity = Identity {
        subject: subject(answer).ok_or(TokenProblem::BadClaims)?,
        roles: match &policy.roles_claim {
            Some(claim) => string_list(lookup(answer, claim))?,
            None => Vec::new(),
        },
        scopes: string_list(lookup(answer, &policy.scopes_claim))?,
        method: AuthMethod::Introspection,
        // RFC 9470 §6.2: the authorization server says how and when the user signed in.
        acr: acr(answer)?,
        auth_time: auth_time(answer)?,
        claims: Some(std::sync::Arc::new(answer.clone())),
    };
    // Identity headers join roles with `,` and scopes with spaces (as for JWTs).
    if identity.roles.iter().any(|r| r.contains(','))
        || identity
            .scopes
            .iter()
            .any(|s| s.contains(char::is_whitespace))
    {
        return Err(TokenProblem::BadClaims);
    }
    Ok((identity, exp.map(|exp| exp.max(0.0) as u64)))
}

/// `sub`, else `username`, else `client_id` (a client-credentials token has only that).
fn subject(answer: &Map<String, Value>) -> Option<String> {
    ["sub", "username", "client_id"]
        .into_iter()
        .filter_map(|name| answer.get(name).and_then(Value::as_str))
        .find(|s| !s.is_empty() && !s.chars().any(char::is_control))
        .map(str::to_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy() -> IntrospectionPolicy {
        IntrospectionPolicy {
            issuer: Some("https://as.example".into()),
            audience: vec!["api".into()],
            roles_claim: Some("realm.roles".into()),
            scopes_claim: "scope".into(),
        }
    }

    fn judged(answer: Value) -> (Authn, Option<u64>) {
        judge(answer.as_object().unwrap(), &policy(), 1_000)
    }

    fn active_answer() -> Value {
        json!({"active": true, "client_id": "app", "scope": "a b", "exp": 1_060,
               "iss": "https://as.example", "aud": ["api", "other"], "token_type": "Bearer",
               "realm": {"roles": ["admin"]}})
    }

    fn problem(answer: Value) -> TokenProblem {
        match judged(answer).0 {
            Authn::Rejected(Rejection::InvalidToken(p)) => p,
            other => panic!("not rejected: {other:?}"),
        }
    }

    #[test]
    fn an_active_answer_is_an_identity_until_its_exp() {
        let (Authn::Authenticated(id), exp) = judged(active_answer()) else {
            panic!("not authenticated");
        };
        assert_eq!(exp, Some(1_060));
        assert_eq!(
            (id.subject.as_str(), id.method),
            ("app", AuthMethod::Introspection)
        );
        assert_eq!(
            (id.roles, id.scopes),
            (vec!["admin".into()], vec!["a".into(), "b".into()])
        );
        let mut with_sub = active_answer();
        with_sub["sub"] = "alice".into();
        with_sub["username"] = "Alice".into();
        let (Authn::Authenticated(id), _) = judged(with_sub) else {
            panic!()
        };
        assert_eq!(id.subject, "alice");
        assert_eq!((id.acr, id.auth_time), (None, None));
    }

    #[test]
    fn acr_and_auth_time_come_from_the_answer() {
        let mut answer = active_answer();
        answer["acr"] = "mfa".into();
        answer["auth_time"] = json!(940.5);
        let (Authn::Authenticated(id), _) = judged(answer) else {
            panic!("not authenticated");
        };
        assert_eq!((id.acr.as_deref(), id.auth_time), (Some("mfa"), Some(940)));
    }

    #[test]
    fn inactive_expired_and_foreign_tokens_are_refused() {
        assert_eq!(problem(json!({"active": false})), TokenProblem::Inactive);
        let cases = [
            ("exp", json!(1_000), TokenProblem::Expired),
            ("exp", json!("soon"), TokenProblem::BadClaims),
            (
                "iss",
                json!("https://evil.example"),
                TokenProblem::WrongIssuer,
            ),
            ("aud", json!("other"), TokenProblem::WrongAudience),
            ("token_type", json!("DPoP"), TokenProblem::WrongType),
            ("cnf", json!({"jkt": "x"}), TokenProblem::WrongType),
            ("client_id", json!(""), TokenProblem::BadClaims),
            ("scope", json!(["a b"]), TokenProblem::BadClaims),
            ("acr", json!(["mfa"]), TokenProblem::BadClaims),
            ("auth_time", json!(-1), TokenProblem::BadClaims),
        ];
        for (claim, value, want) in cases {
            let mut answer = active_answer();
            answer[claim] = value;
            assert_eq!(problem(answer), want, "{claim}");
        }
    }

    #[test]
    fn an_answer_without_a_boolean_active_is_not_judged() {
        for answer in [json!({}), json!({"active": "true"}), json!({"error": "x"})] {
            assert_eq!(judged(answer), (Authn::Unavailable, None));
        }
    }

    #[test]
    fn unset_checks_are_skipped() {
        let open = IntrospectionPolicy {
            issuer: None,
            audience: Vec::new(),
            roles_claim: None,
            ..policy()
        };
        let answer = json!({"active": true, "username": "bob", "scope": "x"});
        let (Authn::Authenticated(id), exp) = judge(answer.as_object().unwrap(), &open, 5) else {
            panic!("not authenticated");
        };
        assert_eq!((id.subject.as_str(), exp), ("bob", None));
        assert!(id.roles.is_empty());
    }
}
