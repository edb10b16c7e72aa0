//! Wycheproof signature vectors (tests/data/wycheproof, Apache-2.0) run through warden's own
//! key loading and signature check: every `valid` vector verifies, every `invalid` one is
//! refused; `acceptable` ones are counted and printed (run with `--nocapture`).
//!
//! Wycheproof signs arbitrary messages while a JWS signs `b64(header).b64(payload)`, so the
//! vectors are fed one level down: the key goes through [`KeySet::from_jwks`] (the per-key
//! algorithm allowlist included) and the signature through `jsonwebtoken::crypto::verify`, the
//! same verifier `jsonwebtoken::decode` runs on a token's signing input in `verify_with`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use super::keys::KeySet;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/wycheproof/");
const KID: &str = "wycheproof";

/// How the vectors of one file fared.
#[derive(Debug, Default)]
struct Tally {
    valid_accepted: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    wrong: Vec<String>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A big-endian integer in hex as exactly `len` bytes (Wycheproof may add a sign byte).
fn fixed(s: &str, len: usize) -> String {
    let mut bytes = hex(s);
    while bytes.len() > len && bytes[0] == 0 {
        bytes.remove(0);
    }
    let mut out = vec![0; len.saturating_sub(bytes.len())];
    out.extend(bytes);
    URL_SAFE_NO_PAD.encode(out)
}

/// The group's public key as a JWKS entry, as an identity provider would publish it.
fn jwk(group: &Value, alg: Algorithm) -> Value {
    let mut jwk = match alg {
        Algorithm::ES256 | Algorithm::ES384 => {
            let (crv, len) = if alg == Algorithm::ES256 {
                ("P-256", 32)
            } else {
                ("P-384", 48)
            };
            let key = &group["publicKey"];
            json!({
                "kty": "EC",
                "crv": crv,
                "x": fixed(key["wx"].as_str().unwrap(), len),
                "y": fixed(key["wy"].as_str().unwrap(), len),
            })
        }
        _ => group
            .get("publicKeyJwk")
            .or_else(|| group.get("keyJwk"))
            .cloned()
            .unwrap_or_else(|| panic!("no JWK in {group}")),
    };
    jwk["kid"] = KID.into();
    jwk["use"] = "sig".into();
    jwk["alg"] = serde_json::to_value(alg).unwrap();
    jwk
}

/// Whether warden accepts `sig` over `msg` as an `alg` signature by the key.
fn accepts(keys: &KeySet, alg: Algorithm, msg: &[u8], sig: &[u8]) -> bool {
    let sig = URL_SAFE_NO_PAD.encode(sig);
    keys.candidates(Some(KID), alg).any(|key| {
        key.algorithms.contains(&alg)
            && jsonwebtoken::crypto::verify(&sig, msg, &key.key, alg).unwrap_or(false)
    })
}

/// Runs every vector of `file` as `alg`; `expect_all_rejected` treats valid ones as invalid
/// (DER-encoded ECDSA signatures are not JWS signatures).
fn run(file: &str, alg: Algorithm, expect_all_rejected: bool) -> Tally {
    let text = std::fs::read_to_string(format!("{DIR}{file}")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut tally = Tally::default();
    let mut total = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let jwks = json!({ "keys": [jwk(group, alg)] });
        let keys = KeySet::from_jwks(jwks.to_string().as_bytes());
        for test in group["tests"].as_array().unwrap() {
            total += 1;
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let accepted = keys.as_ref().is_ok_and(|k| accepts(k, alg, &msg, &sig));
            let result = test["result"].as_str().unwrap();
            let id = format!(
                "{file} tcId {} ({result}, {}, {}){}",
                test["tcId"],
                test["comment"],
                test["flags"],
                keys.as_ref()
                    .err()
                    .map(|e| format!(" key refused: {e}"))
                    .unwrap_or_default()
            );
            match (result, accepted) {
                ("valid", true) if !expect_all_rejected => tally.valid_accepted += 1,
                ("valid", false) if expect_all_rejected => tally.invalid_rejected += 1,
                ("invalid", false) => tally.invalid_rejected += 1,
                ("acceptable", true) => tally.acceptable_accepted += 1,
                ("acceptable", false) => tally.acceptable_rejected += 1,
                _ => tally.wrong.push(format!("{id}: accepted={accepted}")),
            }
        }
    }
    assert_eq!(
        total,
        doc["numberOfTests"].as_u64().unwrap() as usize,
        "{file}"
    );
    eprintln!(
        "wycheproof {file:<44} {alg:?}: {total:>3} vectors: valid accepted {}, invalid rejected {}, \
         acceptable accepted {} / rejected {}, wrong {}",
        tally.valid_accepted,
        tally.invalid_rejected,
        tally.acceptable_accepted,
        tally.acceptable_rejected,
        tally.wrong.len()
    );
    tally
}

fn check(file: &str, alg: Algorithm) {
    let tally = run(file, alg, false);
    assert!(
        tally.wrong.is_empty(),
        "{} vectors misjudged:\n{}",
        tally.wrong.len(),
        tally.wrong.join("\n")
    );
    assert!(
        tally.valid_accepted > 0 && tally.invalid_rejected > 0,
        "{file}"
    );
}

#[test]
fn es256_p1363() {
    check("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
fn es384_p1363() {
    check("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

/// JWS ECDSA signatures are raw `r || s`: a DER-encoded signature, even a correct one, is refused.
#[test]
fn es256_der_signatures_are_refused() {
    let tally = run("ecdsa_secp256r1_sha256_test.json", Algorithm::ES256, true);
    assert!(tally.wrong.is_empty(), "{}", tally.wrong.join("\n"));
}

#[test]
fn rs256() {
    check("rsa_signature_2048_sha256_test.json", Algorithm::RS256);
}

#[test]
fn rs384() {
    check("rsa_signature_2048_sha384_test.json", Algorithm::RS384);
}

#[test]
fn rs512() {
    check("rsa_signature_2048_sha512_test.json", Algorithm::RS512);
}

#[test]
fn ps256() {
    check("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256);
}

#[test]
fn ps384() {
    check("rsa_pss_2048_sha384_mgf1_48_test.json", Algorithm::PS384);
}

#[test]
fn ps512() {
    check("rsa_pss_4096_sha512_mgf1_64_test.json", Algorithm::PS512);
}

#[test]
fn eddsa_ed25519() {
    check("ed25519_test.json", Algorithm::EdDSA);
}
