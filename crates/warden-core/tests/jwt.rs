#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! JWT verification with real keys and a controlled clock: every rejection has its reason.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use warden_core::identity::{Authn, Rejection, TokenProblem};
use warden_core::jwt::{JwtPolicy, KeySet, KeySetError, verify};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../warden-cli/tests/data/");
const NOW: u64 = 1_800_000_000;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap()
}

fn keys() -> KeySet {
    KeySet::from_jwks(&read("jwks.json")).unwrap()
}

fn policy() -> JwtPolicy {
    JwtPolicy {
        issuer: "https://idp.example".into(),
        audience: vec!["api".into()],
        roles_claim: "roles".into(),
        scopes_claim: "scope".into(),
        leeway: 30,
        typ: None,
    }
}

fn claims() -> Value {
    json!({"iss": "https://idp.example", "aud": "api", "sub": "alice", "exp": NOW + 60, "iat": NOW, "roles": ["admin"], "scope": "a b"})
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&read("es256.pem")).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&read("ed25519.pem")).unwrap(),
        _ => EncodingKey::from_rsa_pem(&read("rs256.pem")).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn es(claims: &Value) -> String {
    sign(Algorithm::ES256, Some("es-1"), claims)
}

fn problem(token: &str, policy: &JwtPolicy, now: u64) -> Option<TokenProblem> {
    match verify(token, &keys(), policy, now) {
        Authn::Authenticated(_) => None,
        Authn::Rejected(Rejection::InvalidToken(p)) => Some(p),
        other => panic!("unexpected {other:?}"),
    }
}

fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut c = claims();
    change(c.as_object_mut().unwrap());
    c
}

/// A token with a hand-made header and the ES256 token's payload and signature.
fn reheader(token: &str, header: &Value) -> String {
    let mut parts = token.splitn(2, '.');
    parts.next();
    format!(
        "{}.{}",
        B64.encode(header.to_string()),
        parts.next().unwrap()
    )
}

#[test]
fn valid_tokens_of_every_key_type() {
    for (alg, kid) in [
        (Algorithm::ES256, "es-1"),
        (Algorithm::RS256, "rs-1"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        match verify(&sign(alg, Some(kid), &claims()), &keys(), &policy(), NOW) {
            Authn::Authenticated(id) => {
                assert_eq!(id.subject, "alice");
                assert_eq!(id.roles, ["admin"]);
                assert_eq!(id.scopes, ["a", "b"]);
            }
            other => panic!("{alg:?}: {other:?}"),
        }
    }
}

#[test]
fn a_token_without_kid_is_tried_on_keys_of_its_algorithm() {
    assert_eq!(
        problem(&sign(Algorithm::ES256, None, &claims()), &policy(), NOW),
        None
    );
    assert_eq!(
        problem(&sign(Algorithm::EdDSA, None, &claims()), &policy(), NOW),
        None
    );
}

#[test]
fn the_jwk_alg_pins_the_algorithm() {
    // rs-1 declares RS256: PS256 with the same RSA key is refused.
    assert_eq!(
        problem(
            &sign(Algorithm::PS256, Some("rs-1"), &claims()),
            &policy(),
            NOW
        ),
        Some(TokenProblem::AlgorithmNotAllowed)
    );
}

#[test]
fn time_claims_with_leeway() {
    let exp = with(|c| {
        c.insert("exp".into(), json!(NOW));
    });
    assert_eq!(problem(&es(&exp), &policy(), NOW + 29), None);
    assert_eq!(
        problem(&es(&exp), &policy(), NOW + 30),
        Some(TokenProblem::Expired)
    );
    let nbf = with(|c| {
        c.insert("nbf".into(), json!(NOW + 31));
    });
    assert_eq!(
        problem(&es(&nbf), &policy(), NOW),
        Some(TokenProblem::NotYetValid)
    );
    let nbf_ok = with(|c| {
        c.insert("nbf".into(), json!(NOW + 30));
    });
    assert_eq!(problem(&es(&nbf_ok), &policy(), NOW), None);
    let iat = with(|c| {
        c.insert("iat".into(), json!(NOW + 3600));
    });
    assert_eq!(
        problem(&es(&iat), &policy(), NOW),
        Some(TokenProblem::NotYetValid)
    );
}

#[test]
fn claims_must_be_present_and_typed() {
    let cases: [(&str, Value); 5] = [
        (
            "missing exp",
            with(|c| {
                c.remove("exp");
            }),
        ),
        (
            "exp as string",
            with(|c| {
                c.insert("exp".into(), json!("9999999999"));
            }),
        ),
        (
            "missing sub",
            with(|c| {
                c.remove("sub");
            }),
        ),
        (
            "roles as number",
            with(|c| {
                c.insert("roles".into(), json!(7));
            }),
        ),
        (
            "nbf as bool",
            with(|c| {
                c.insert("nbf".into(), json!(true));
            }),
        ),
    ];
    for (name, claims) in cases {
        assert_eq!(
            problem(&es(&claims), &policy(), NOW),
            Some(TokenProblem::BadClaims),
            "{name}"
        );
    }
}

#[test]
fn acr_and_auth_time_fill_the_identity_and_must_be_typed() {
    let identity = |claims: &Value| match verify(&es(claims), &keys(), &policy(), NOW) {
        Authn::Authenticated(identity) => identity,
        other => panic!("unexpected {other:?}"),
    };
    let plain = identity(&claims());
    assert_eq!((plain.acr, plain.auth_time), (None, None));
    let stepped = identity(&with(|c| {
        c.insert("acr".into(), json!("urn:example:mfa"));
        c.insert("auth_time".into(), json!(NOW - 90));
    }));
    assert_eq!(stepped.acr.as_deref(), Some("urn:example:mfa"));
    assert_eq!(stepped.auth_time, Some(NOW - 90));
    let fraction = identity(&with(|c| {
        c.insert("auth_time".into(), json!(1_799_999_999.75));
    }));
    assert_eq!(fraction.auth_time, Some(1_799_999_999));
    for (name, claim, value) in [
        ("acr as number", "acr", json!(2)),
        ("acr as list", "acr", json!(["mfa"])),
        ("acr as null", "acr", json!(null)),
        ("auth_time as string", "auth_time", json!("1799999999")),
        ("auth_time negative", "auth_time", json!(-1)),
    ] {
        let claims = with(|c| {
            c.insert(claim.into(), value);
        });
        assert_eq!(
            problem(&es(&claims), &policy(), NOW),
            Some(TokenProblem::BadClaims),
            "{name}"
        );
    }
}

#[test]
fn issuer_and_audience() {
    let iss = with(|c| {
        c.insert("iss".into(), json!("https://evil.example"));
    });
    assert_eq!(
        problem(&es(&iss), &policy(), NOW),
        Some(TokenProblem::WrongIssuer)
    );
    let no_iss = with(|c| {
        c.remove("iss");
    });
    assert_eq!(
        problem(&es(&no_iss), &policy(), NOW),
        Some(TokenProblem::WrongIssuer)
    );
    let aud = with(|c| {
        c.insert("aud".into(), json!("other"));
    });
    assert_eq!(
        problem(&es(&aud), &policy(), NOW),
        Some(TokenProblem::WrongAudience)
    );
    let no_aud = with(|c| {
        c.remove("aud");
    });
    assert_eq!(
        problem(&es(&no_aud), &policy(), NOW),
        Some(TokenProblem::WrongAudience)
    );
    let list = with(|c| {
        c.insert("aud".into(), json!(["other", "api"]));
    });
    assert_eq!(problem(&es(&list), &policy(), NOW), None);
}

#[test]
fn forged_signatures_and_algorithms() {
    let good = es(&claims());
    let mut parts: Vec<&str> = good.split('.').collect();
    let evil_payload = B64.encode(
        with(|c| {
            c.insert("roles".into(), json!(["root"]));
        })
        .to_string(),
    );
    parts[1] = &evil_payload;
    assert_eq!(
        problem(&parts.join("."), &policy(), NOW),
        Some(TokenProblem::BadSignature)
    );

    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","kid":"es-1"}"#),
        B64.encode(claims().to_string())
    );
    assert_eq!(
        problem(&none, &policy(), NOW),
        Some(TokenProblem::Malformed)
    );
    let none_caps = reheader(&good, &json!({"alg": "NONE", "kid": "es-1"}));
    assert!(problem(&none_caps, &policy(), NOW).is_some());

    // HS256 keyed with the RSA public key (the classic confusion attack).
    let public = read("rs256.pub.pem");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rs-1".into());
    let confused =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&public)).unwrap();
    assert_eq!(
        problem(&confused, &policy(), NOW),
        Some(TokenProblem::AlgorithmNotAllowed)
    );

    let other_key = EncodingKey::from_ec_pem(&read("other.pem")).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("es-1".into());
    let wrong_key = jsonwebtoken::encode(&header, &claims(), &other_key).unwrap();
    assert_eq!(
        problem(&wrong_key, &policy(), NOW),
        Some(TokenProblem::BadSignature)
    );
    header.kid = Some("nope".into());
    let unknown = jsonwebtoken::encode(&header, &claims(), &other_key).unwrap();
    assert_eq!(
        problem(&unknown, &policy(), NOW),
        Some(TokenProblem::UnknownKey)
    );
}

#[test]
fn header_rules() {
    let good = es(&claims());
    let crit = reheader(
        &good,
        &json!({"alg": "ES256", "kid": "es-1", "crit": ["exp"], "exp": 1}),
    );
    assert_eq!(
        problem(&crit, &policy(), NOW),
        Some(TokenProblem::UnknownCritical)
    );
    // An empty `crit` names nothing, but RFC 7515 forbids it: refused all the same.
    let empty_crit = reheader(&good, &json!({"alg": "ES256", "kid": "es-1", "crit": []}));
    assert_eq!(
        problem(&empty_crit, &policy(), NOW),
        Some(TokenProblem::UnknownCritical)
    );
    for bad in ["abc.def.ghi", "a.b", "a.b.c.d.e", "", "...."] {
        assert_eq!(
            problem(bad, &policy(), NOW),
            Some(TokenProblem::Malformed),
            "{bad:?}"
        );
    }
    let mut typed = policy();
    typed.typ = Some(vec!["at+jwt".into()]);
    assert_eq!(problem(&good, &typed, NOW), Some(TokenProblem::WrongType));
    let key = EncodingKey::from_ec_pem(&read("es256.pem")).unwrap();
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("es-1".into());
        header.typ = Some(typ.into());
        let token = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
        assert_eq!(problem(&token, &typed, NOW), None, "{typ}");
    }
}

#[test]
fn nested_role_claims_and_scope_arrays() {
    let mut p = policy();
    p.roles_claim = "realm_access.roles".into();
    p.scopes_claim = "scp".into();
    let c = with(|c| {
        c.insert("realm_access".into(), json!({"roles": ["ops"]}));
        c.insert("scp".into(), json!(["x", "y"]));
    });
    match verify(&es(&c), &keys(), &p, NOW) {
        Authn::Authenticated(id) => {
            assert_eq!(id.roles, ["ops"]);
            assert_eq!(id.scopes, ["x", "y"]);
        }
        other => panic!("{other:?}"),
    }
}

/// A role holding `,` or a scope holding a space would read as two once joined into the
/// identity headers: such a token is refused.
#[test]
fn roles_and_scopes_must_not_hold_their_header_separator() {
    for (name, value) in [
        ("roles", json!(["viewer,admin"])),
        ("scope", json!(["a b"])),
        ("scope", json!(["a\tb"])),
    ] {
        let c = with(|c| drop(c.insert(name.into(), value.clone())));
        assert_eq!(
            problem(&es(&c), &policy(), NOW),
            Some(TokenProblem::BadClaims),
            "{name}: {value}"
        );
    }
    let c = with(|c| drop(c.insert("roles".into(), json!(["Domain Users", "a:b.c-d_e"]))));
    assert_eq!(
        problem(&es(&c), &policy(), NOW),
        None,
        "spaces in a role are fine"
    );
}

#[test]
fn jwks_loading_skips_what_cannot_verify() {
    let oct = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#;
    assert!(matches!(
        KeySet::from_jwks(oct),
        Err(KeySetError::NoUsableKey(_))
    ));
    assert!(matches!(
        KeySet::from_jwks(b"{}"),
        Err(KeySetError::NotJwks(_))
    ));
    assert!(matches!(
        KeySet::from_jwks(b"not json"),
        Err(KeySetError::NotJwks(_))
    ));
    let mut doc: Value = serde_json::from_slice(&read("jwks.json")).unwrap();
    let keys = doc["keys"].as_array_mut().unwrap();
    keys[0]["use"] = json!("enc");
    keys[1]["alg"] = json!("ES256");
    keys.push(json!({"kty": "oct", "k": "c2VjcmV0"}));
    let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    let kids: Vec<_> = set.keys().iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(kids, ["ed-1"]);
}
