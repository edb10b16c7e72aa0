//! Shared by the JWT attack suites: the case table runner and ways to build hostile tokens
//! (signed with the test keys, re-signed, or with hand-made signatures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)] // each suite uses a different part

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::common::tokens::{Signer, b64, claims, mint};
use crate::common::*;

/// What a row expects.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    /// 401 with this Bearer challenge and Basic, code `invalid_token`.
    Invalid(&'static str),
    /// 400 `invalid_request`: not `Bearer <b64token>` syntax.
    BadRequest,
    /// 431 `header_too_large`.
    TooLarge,
}

/// One attack: a name, the bearer token, and the expected refusal.
pub struct Case {
    pub name: String,
    pub token: String,
    pub want: Want,
}

pub fn invalid(name: impl Into<String>, token: String) -> Case {
    Case {
        name: name.into(),
        token,
        want: Want::Invalid(BEARER_INVALID),
    }
}

pub fn expect(name: impl Into<String>, token: String, want: Want) -> Case {
    Case {
        name: name.into(),
        token,
        want,
    }
}

/// Every way the answer differs from the row.
pub fn mismatches(want: Want, r: &Response) -> Vec<String> {
    let (status, challenges, code) = match want {
        Want::Invalid(ch) => (401, vec![ch.to_owned(), BASIC.to_owned()], "invalid_token"),
        Want::BadRequest => (400, vec![BEARER_BAD_REQUEST.to_owned()], "invalid_request"),
        Want::TooLarge => (431, vec![], "header_too_large"),
    };
    let mut bad = Vec::new();
    if r.status != status {
        bad.push(format!("status {} (want {status})", r.status));
    }
    if r.challenges() != challenges {
        bad.push(format!("WWW-Authenticate {:?}", r.challenges()));
    }
    if r.all("cache-control") != ["no-store"] {
        bad.push(format!("Cache-Control {:?}", r.all("cache-control")));
    }
    if r.header("content-type") != Some(PROBLEM) {
        bad.push(format!("Content-Type {:?}", r.header("content-type")));
    }
    let got_code = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned));
    if got_code.as_deref() != Some(code) {
        bad.push(format!("code {got_code:?} (want {code})"));
    }
    for name in ["x-auth-subject", "x-auth-roles", "x-auth-method"] {
        if r.header(name).is_some() {
            bad.push(format!("{name} on a denial"));
        }
    }
    let leaked = leaks(&r.body);
    if !leaked.is_empty() {
        bad.push(format!("body leaks {leaked:?}"));
    }
    bad
}

/// Sends every case to `/admin/x` and fails with the list of misjudged rows.
pub fn run(class: &str, warden: &Warden, cases: &[Case]) {
    let mut failures = Vec::new();
    let mut refused = 0;
    for c in cases {
        let r = warden.get("/admin/x", &[("Authorization", &bearer(&c.token))]);
        let bad = mismatches(c.want, &r);
        if bad.is_empty() {
            refused += 1;
        }
        failures.extend(bad.into_iter().map(|m| format!("[{}] {m}", c.name)));
    }
    eprintln!(
        "{class}: {} cases, {refused} refused as expected",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{class}: {} cases misjudged:\n{}",
        cases.len() - refused,
        failures.join("\n")
    );
}

pub fn server() -> Warden {
    Env::new(&standard_config()).serve()
}

// ---- building tokens byte for byte ----

pub fn valid() -> Value {
    claims("alice", &["admin"], "orders:write")
}

pub fn with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut c = valid();
    edit(c.as_object_mut().unwrap());
    c
}

pub fn es_header() -> Value {
    json!({"alg": "ES256", "typ": "JWT", "kid": "es-1"})
}

/// `input.sig`, the signature made by `key` as `alg` over exactly the bytes of `input`.
pub fn sign_input(input: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{sig}")
}

/// A JWS over raw JSON texts (so members may repeat), signed by `signer`.
pub fn signed_text(header: &str, payload: &str, signer: Signer) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    sign_input(&input, &signer.key(), signer.alg())
}

/// A JWS with this header and payload, signed by the real ES256 key.
pub fn es_signed(header: &Value, payload: &Value) -> String {
    signed_text(&header.to_string(), &payload.to_string(), Signer::Es256)
}

pub fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// The DER body of a PEM file in `tests/data`.
pub fn pem_der(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(data_file(name)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

pub fn jwks_entry(kid: &str) -> Value {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(data_file("jwks.json")).unwrap()).unwrap();
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone()
}

/// `r || s` as an ASN.1 DER `ECDSA-Sig-Value`.
pub fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let mut v: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
        if v.first().is_none_or(|x| *x >= 0x80) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, u8::try_from(v.len()).unwrap()];
        out.extend(v);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = int(r);
    body.extend(int(s));
    let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
    out.extend(body);
    out
}

/// The order of P-256.
pub const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// A good ES256 token with its signature replaced.
pub fn es_with_sig(sig: &[u8]) -> String {
    let p = parts(&mint(Signer::Es256, &valid()));
    format!("{}.{}.{}", p[0], p[1], b64(sig))
}
