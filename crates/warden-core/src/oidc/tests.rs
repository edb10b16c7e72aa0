#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value, json};

use super::*;

const NOW: u64 = 1_700_000_000;

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn id_token() -> Value {
    json!({
        "iss": "https://idp.example", "aud": "gw", "sub": "alice", "nonce": "n-1",
        "iat": NOW - 5, "exp": NOW + 300, "auth_time": NOW - 60, "acr": "mfa",
        "amr": ["pwd", "otp"], "sid": "s-9", "groups": ["admin", "ops"],
    })
}

fn check() -> IdTokenCheck<'static> {
    IdTokenCheck {
        issuer: "https://idp.example",
        client_id: "gw",
        nonce: Some("n-1"),
        subject_claim: "sub",
        roles_claim: Some("groups"),
        leeway: 30,
    }
}

fn judge(value: Value) -> Result<SignedIn, OidcTokenProblem> {
    check_id_token(&claims(value), &check(), NOW)
}

fn with(field: &str, value: Value) -> Value {
    let mut token = id_token();
    token[field] = value;
    token
}

fn without(field: &str) -> Value {
    let mut token = id_token();
    token.as_object_mut().unwrap().remove(field);
    token
}

#[test]
fn a_good_id_token_gives_every_field() {
    let signed_in = judge(id_token()).unwrap();
    assert_eq!(
        signed_in,
        SignedIn {
            subject: "alice".into(),
            roles: vec!["admin".into(), "ops".into()],
            acr: Some("mfa".into()),
            amr: vec!["pwd".into(), "otp".into()],
            auth_time: Some(i64::try_from(NOW).unwrap() - 60),
            sid: Some("s-9".into()),
            expires_at: i64::try_from(NOW).unwrap() + 300,
        }
    );
}

#[test]
fn each_broken_claim_has_its_reason() {
    use OidcTokenProblem::*;
    let cases = [
        (with("iss", json!("https://evil.example")), WrongIssuer),
        (without("iss"), WrongIssuer),
        (with("aud", json!("other")), WrongAudience),
        (with("azp", json!("other")), WrongAudience),
        (with("exp", json!(NOW - 31)), Expired),
        (without("exp"), BadClaims),
        (with("exp", json!("soon")), BadClaims),
        (without("iat"), BadClaims),
        (with("iat", json!(NOW + 31)), NotYetValid),
        (with("nonce", json!("n-2")), WrongNonce),
        (without("nonce"), WrongNonce),
        (without("sub"), BadClaims),
        (with("sub", json!("")), BadClaims),
        (with("groups", json!({"a": 1})), BadClaims),
        (with("groups", json!(["a,b"])), BadClaims),
        (with("acr", json!(2)), BadClaims),
        (with("amr", json!(7)), BadClaims),
    ];
    for (i, (token, want)) in cases.into_iter().enumerate() {
        assert_eq!(judge(token), Err(want), "case {i}");
    }
    // Several audiences naming us are fine, with or without `azp`.
    assert!(judge(with("aud", json!(["other", "gw"]))).is_ok());
    // After a refresh no nonce is expected.
    let mut refreshed = check();
    refreshed.nonce = None;
    assert!(check_id_token(&claims(without("nonce")), &refreshed, NOW).is_ok());
}

#[test]
fn leeway_absorbs_small_skew() {
    assert!(judge(with("exp", json!(NOW - 29))).is_ok());
    assert!(judge(with("iat", json!(NOW + 29))).is_ok());
}

#[test]
fn subject_and_roles_claims_are_configurable() {
    let token = with("email", json!("alice@example.test"));
    let mut check = check();
    check.subject_claim = "email";
    check.roles_claim = None;
    let signed_in = check_id_token(&claims(token), &check, NOW).unwrap();
    assert_eq!(signed_in.subject, "alice@example.test");
    assert!(signed_in.roles.is_empty());
    let spaced = with("groups", json!("admin ops"));
    assert_eq!(judge(spaced).unwrap().roles, ["admin", "ops"]);
}

fn logout_token() -> Value {
    json!({
        "iss": "https://idp.example", "aud": "gw", "sub": "alice", "sid": "s-9",
        "iat": NOW - 1, "exp": NOW + 120, "jti": "j-1",
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    })
}

fn judge_logout(value: Value) -> Result<LogoutRequest, OidcTokenProblem> {
    check_logout_token(&claims(value), "https://idp.example", "gw", 30, NOW)
}

#[test]
fn a_logout_token_names_subject_and_session() {
    let request = judge_logout(logout_token()).unwrap();
    assert_eq!(request.subject.as_deref(), Some("alice"));
    assert_eq!(request.sid.as_deref(), Some("s-9"));
    assert_eq!(request.issued_at, (NOW - 1) as i64);
    let mut sid_only = logout_token();
    sid_only.as_object_mut().unwrap().remove("sub");
    assert_eq!(judge_logout(sid_only).unwrap().subject, None);
}

#[test]
fn a_logout_token_must_be_one() {
    let edit = |f: &dyn Fn(&mut Map<String, Value>)| {
        let mut token = logout_token();
        f(token.as_object_mut().unwrap());
        judge_logout(token)
    };
    use OidcTokenProblem::*;
    assert_eq!(edit(&|t| drop(t.remove("events"))), Err(NotLogout));
    assert_eq!(
        edit(&|t| drop(t.insert("events".into(), json!({"x": {}})))),
        Err(NotLogout)
    );
    assert_eq!(
        edit(&|t| drop(t.insert("nonce".into(), json!("n")))),
        Err(NotLogout)
    );
    assert_eq!(edit(&|t| drop(t.remove("jti"))), Err(BadClaims));
    assert_eq!(
        edit(&|t| {
            t.remove("sub");
            t.remove("sid");
        }),
        Err(BadClaims)
    );
    assert_eq!(
        edit(&|t| drop(t.insert("aud".into(), json!("x")))),
        Err(WrongAudience)
    );
    assert_eq!(
        edit(&|t| drop(t.insert("iss".into(), json!("x")))),
        Err(WrongIssuer)
    );
    assert_eq!(
        edit(&|t| drop(t.insert("exp".into(), json!(NOW - 60)))),
        Err(Expired)
    );
}
