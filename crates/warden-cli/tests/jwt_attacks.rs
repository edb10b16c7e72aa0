//! JWT bearer tokens: real keys of every type are accepted; the classic attacks are 401
//! `invalid_token` (never 400, never 403, never 200); leeway boundaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use common::tokens::{Signer, b64, claims, mint, mint_with, now, raw_signed, raw_unsigned, token};
use common::*;

fn valid() -> Value {
    claims("alice", &["admin"], "orders:write")
}

fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = valid();
    edit(&mut c);
    c
}

fn es(c: &Value) -> String {
    mint(Signer::Es256, c)
}

fn header(alg: Algorithm, kid: Option<&str>) -> Header {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    h
}

/// The three parts of a compact token.
fn parts(token: &str) -> (String, String, String) {
    let p: Vec<&str> = token.split('.').collect();
    assert_eq!(p.len(), 3, "{token}");
    (p[0].to_owned(), p[1].to_owned(), p[2].to_owned())
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(data_file(name)).unwrap()
}

/// HS256 over the signing input with a public key's PEM bytes as the HMAC secret.
fn key_confusion(public_pem: &str, kid: Option<&str>) -> String {
    let mut h = json!({"alg": "HS256", "typ": "JWT"});
    if let Some(kid) = kid {
        h["kid"] = kid.into();
    }
    let secret = EncodingKey::from_secret(&pem(public_pem));
    raw_signed(&h, &valid(), &secret, Algorithm::HS256)
}

#[test]
fn real_keys_of_every_type_are_accepted() {
    let warden = Env::new(&standard_config()).serve();
    for signer in [Signer::Es256, Signer::Rs256, Signer::Ed25519] {
        let t = mint(signer, &claims("alice", &["admin"], "orders:write"));
        let r = warden.get("/admin/x", &[("Authorization", &bearer(&t))]);
        assert_eq!(r.status, 200, "{signer:?}: {r:#?}");
        assert_eq!(r.all("x-auth-subject"), ["alice"], "{signer:?}");
        assert_eq!(r.all("x-auth-roles"), ["admin"], "{signer:?}");
        assert_eq!(r.all("x-auth-scopes"), ["orders:write"], "{signer:?}");
        assert_eq!(r.all("x-auth-method"), ["jwt"], "{signer:?}");
    }
    // An audience list naming us is fine.
    let t = es(&with(|c| c["aud"] = json!(["other", "api"])));
    let r = warden.get("/admin/x", &[("Authorization", &bearer(&t))]);
    assert_eq!(r.status, 200, "aud list: {r:#?}");
}

#[test]
fn classic_attacks_are_invalid_token() {
    let warden = Env::new(&standard_config()).serve();
    let good = es(&valid());
    let (good_h, good_p, good_s) = parts(&good);
    let rs_good = mint(Signer::Rs256, &valid());
    let none_header = |alg: &str| json!({"alg": alg, "typ": "JWT", "kid": "es-1"});
    let elevated = b64(with(|c| {
        c["sub"] = "root".into();
        c["roles"] = json!(["admin", "root"]);
    })
    .to_string());
    let mut crit = header(Algorithm::ES256, Some("es-1"));
    crit.crit = Some(vec!["x".into()]);
    crit.extras.insert("x", 1);
    let mut jku = header(Algorithm::ES256, Some("attacker"));
    jku.jku = Some("http://127.0.0.1:1/jwks.json".into());
    let mut x5u = header(Algorithm::ES256, Some("attacker"));
    x5u.x5u = Some("http://127.0.0.1:1/cert.pem".into());
    let mut embedded = header(Algorithm::ES256, None);
    embedded.jwk = Some(Jwk::from_encoding_key(&Signer::Other.key(), Algorithm::ES256).unwrap());
    let mut embedded_kid = embedded.clone();
    embedded_kid.kid = Some("es-1".into());
    let ps256 = mint_with(
        &header(Algorithm::PS256, Some("rs-1")),
        Signer::Rs256,
        &valid(),
    );
    let rs_as_es = mint_with(
        &header(Algorithm::RS256, Some("es-1")),
        Signer::Rs256,
        &valid(),
    );

    let attacks: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            raw_unsigned(&none_header("none"), &valid()),
            BEARER_INVALID,
        ),
        (
            "alg None",
            raw_unsigned(&none_header("None"), &valid()),
            BEARER_INVALID,
        ),
        (
            "alg NONE",
            raw_unsigned(&none_header("NONE"), &valid()),
            BEARER_INVALID,
        ),
        (
            "alg nOnE",
            raw_unsigned(&none_header("nOnE"), &valid()),
            BEARER_INVALID,
        ),
        (
            "alg none, no kid",
            raw_unsigned(&json!({"alg": "none"}), &valid()),
            BEARER_INVALID,
        ),
        (
            "alg none, real signature kept",
            format!("{}.{good_p}.{good_s}", b64(none_header("none").to_string())),
            BEARER_INVALID,
        ),
        (
            "HS256 with the RSA public PEM, kid rs-1",
            key_confusion("rs256.pub.pem", Some("rs-1")),
            BEARER_INVALID,
        ),
        (
            "HS256 with the RSA public PEM, no kid",
            key_confusion("rs256.pub.pem", None),
            BEARER_INVALID,
        ),
        (
            "HS256 with the EC public PEM, kid es-1",
            key_confusion("es256.pub.pem", Some("es-1")),
            BEARER_INVALID,
        ),
        ("PS256 on a key declared RS256", ps256, BEARER_INVALID),
        ("RS256 token naming the EC kid", rs_as_es, BEARER_INVALID),
        ("unknown kid", mint(Signer::Other, &valid()), BEARER_INVALID),
        (
            "bad signature (other key, known kid)",
            mint_with(
                &header(Algorithm::ES256, Some("es-1")),
                Signer::Other,
                &valid(),
            ),
            BEARER_INVALID,
        ),
        (
            "bad signature, no kid",
            mint_with(&header(Algorithm::ES256, None), Signer::Other, &valid()),
            BEARER_INVALID,
        ),
        (
            "tampered payload",
            format!("{good_h}.{elevated}.{good_s}"),
            BEARER_INVALID,
        ),
        (
            "signature stripped",
            format!("{good_h}.{good_p}."),
            BEARER_INVALID,
        ),
        (
            "signature of another token",
            format!("{good_h}.{good_p}.{}", parts(&rs_good).2),
            BEARER_INVALID,
        ),
        (
            "jku to an attacker's keys",
            mint_with(&jku, Signer::Other, &valid()),
            BEARER_INVALID,
        ),
        (
            "x5u to an attacker's cert",
            mint_with(&x5u, Signer::Other, &valid()),
            BEARER_INVALID,
        ),
        (
            "embedded jwk",
            mint_with(&embedded, Signer::Other, &valid()),
            BEARER_INVALID,
        ),
        (
            "embedded jwk, known kid",
            mint_with(&embedded_kid, Signer::Other, &valid()),
            BEARER_INVALID,
        ),
        (
            "crit names an unknown extension",
            mint_with(&crit, Signer::Es256, &valid()),
            BEARER_INVALID,
        ),
        (
            "expired beyond leeway",
            es(&with(|c| c["exp"] = (now() - 3600).into())),
            BEARER_EXPIRED,
        ),
        (
            "nbf in the future",
            es(&with(|c| c["nbf"] = (now() + 3600).into())),
            BEARER_EARLY,
        ),
        (
            "iat in the future",
            es(&with(|c| c["iat"] = (now() + 3600).into())),
            BEARER_EARLY,
        ),
        (
            "wrong iss",
            es(&with(|c| c["iss"] = "https://evil.example".into())),
            BEARER_INVALID,
        ),
        (
            "iss with a trailing slash",
            es(&with(|c| c["iss"] = "https://idp.example/".into())),
            BEARER_INVALID,
        ),
        (
            "missing iss",
            es(&with(|c| drop(c.as_object_mut().unwrap().remove("iss")))),
            BEARER_INVALID,
        ),
        (
            "wrong aud",
            es(&with(|c| c["aud"] = "other".into())),
            BEARER_INVALID,
        ),
        (
            "aud list without us",
            es(&with(|c| c["aud"] = json!(["a", "b"]))),
            BEARER_INVALID,
        ),
        (
            "missing aud",
            es(&with(|c| drop(c.as_object_mut().unwrap().remove("aud")))),
            BEARER_INVALID,
        ),
        (
            "missing exp",
            es(&with(|c| drop(c.as_object_mut().unwrap().remove("exp")))),
            BEARER_INVALID,
        ),
        (
            "exp as a string",
            es(&with(|c| c["exp"] = (now() + 600).to_string().into())),
            BEARER_INVALID,
        ),
        (
            "exp null",
            es(&with(|c| c["exp"] = Value::Null)),
            BEARER_INVALID,
        ),
        (
            "missing sub",
            es(&with(|c| drop(c.as_object_mut().unwrap().remove("sub")))),
            BEARER_INVALID,
        ),
        (
            "empty sub",
            es(&with(|c| c["sub"] = "".into())),
            BEARER_INVALID,
        ),
        (
            "five parts (JWE)",
            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn".into(),
            BEARER_INVALID,
        ),
        ("two parts", format!("{good_h}.{good_p}"), BEARER_INVALID),
        ("garbage abc.def.ghi", "abc.def.ghi".into(), BEARER_INVALID),
        (
            "header not JSON",
            format!("{}.{good_p}.{good_s}", b64("not json")),
            BEARER_INVALID,
        ),
        ("only dots", "..".into(), BEARER_INVALID),
    ];
    let mut failures = Vec::new();
    for (name, t, challenge) in &attacks {
        let r = warden.get("/admin/x", &[("Authorization", &bearer(t))]);
        let code = serde_json::from_str::<Value>(&r.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned));
        let want = vec![challenge.to_string(), BASIC.to_owned()];
        if r.status != 401 || r.challenges() != want || code.as_deref() != Some("invalid_token") {
            failures.push(format!(
                "[{name}] status {} challenges {:?} code {code:?}",
                r.status,
                r.challenges()
            ));
        }
        let leaked = leaks(&r.body);
        if !leaked.is_empty() {
            failures.push(format!("[{name}] body leaks {leaked:?}: {}", r.body));
        }
    }
    assert!(
        failures.is_empty(),
        "{} attacks not refused as invalid_token:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// With the default 30 s leeway: 10 s late or early still passes, 60 s does not.
#[test]
fn default_leeway_is_thirty_seconds() {
    let warden = Env::new(&standard_config()).serve();
    let status = |c: Value| {
        let r = warden.get("/admin/x", &[("Authorization", &bearer(&es(&c)))]);
        (
            r.status,
            r.challenges().first().cloned().unwrap_or_default(),
        )
    };
    assert_eq!(
        status(with(|c| c["exp"] = (now() - 10).into())).0,
        200,
        "exp 10 s ago"
    );
    assert_eq!(
        status(with(|c| c["nbf"] = (now() + 10).into())).0,
        200,
        "nbf in 10 s"
    );
    assert_eq!(
        status(with(|c| c["iat"] = (now() + 10).into())).0,
        200,
        "iat in 10 s"
    );
    assert_eq!(
        status(with(|c| c["exp"] = (now() - 60).into())),
        (401, BEARER_EXPIRED.to_owned()),
        "exp 60 s ago"
    );
    assert_eq!(
        status(with(|c| c["nbf"] = (now() + 60).into())),
        (401, BEARER_EARLY.to_owned()),
        "nbf in 60 s"
    );
}

/// `leeway_seconds = 0`: a token 10 s past `exp` is expired.
#[test]
fn leeway_is_configurable() {
    let config = replace(
        &standard_config(),
        "scopes_claim = \"scope\"\n",
        "scopes_claim = \"scope\"\nleeway_seconds = 0\n",
    );
    let warden = Env::new(&config).serve();
    let get = |c: Value| warden.get("/admin/x", &[("Authorization", &bearer(&es(&c)))]);
    let r = get(with(|c| c["exp"] = (now() - 10).into()));
    assert_eq!(
        (r.status, r.challenges()),
        (401, vec![BEARER_EXPIRED.to_owned(), BASIC.to_owned()])
    );
    let r = get(with(|c| c["exp"] = (now() + 60).into()));
    assert_eq!(r.status, 200, "{r:#?}");
}

/// `typ = "at+jwt"`: the header `typ` must say so (with or without `application/`).
#[test]
fn configured_typ_is_enforced() {
    let config = replace(
        &standard_config(),
        "scopes_claim = \"scope\"\n",
        "scopes_claim = \"scope\"\ntyp = \"at+jwt\"\n",
    );
    let warden = Env::new(&config).serve();
    let with_typ = |typ: Option<&str>| {
        let mut h = header(Algorithm::ES256, Some("es-1"));
        h.typ = typ.map(str::to_owned);
        let r = warden.get(
            "/admin/x",
            &[(
                "Authorization",
                &bearer(&mint_with(&h, Signer::Es256, &valid())),
            )],
        );
        (r.status, r.challenges())
    };
    let invalid = (401, vec![BEARER_INVALID.to_owned(), BASIC.to_owned()]);
    assert_eq!(with_typ(Some("at+jwt")).0, 200);
    assert_eq!(with_typ(Some("application/at+jwt")).0, 200);
    assert_eq!(with_typ(Some("AT+JWT")).0, 200);
    assert_eq!(with_typ(Some("JWT")), invalid, "typ JWT");
    assert_eq!(with_typ(None), invalid, "no typ");
    assert_eq!(
        with_typ(Some("application/jwt")),
        invalid,
        "typ application/jwt"
    );
}

/// A valid token whose subject lacks the role is 403 with no challenge, not 401.
#[test]
fn valid_token_without_role_is_forbidden_not_unauthorized() {
    let warden = Env::new(&standard_config()).serve();
    let t = bearer(&token("bob", &["viewer"], ""));
    let r = warden.get("/admin/x", &[("Authorization", &t)]);
    assert_eq!(r.status, 403);
    assert!(r.challenges().is_empty(), "{:?}", r.challenges());
    assert_eq!(r.code(), "forbidden");
    let r = warden.get("/private/x", &[("Authorization", &t)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.all("x-auth-roles"), ["viewer"]);
}
