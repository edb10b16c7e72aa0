//! JWT header attacks (none of `jwt_attacks.rs`'s rows are repeated): `alg` spellings, HMAC
//! keyed with public keys in every encoding, hostile `kid`s, key-carrying headers (`jku` and
//! `x5u` point at a live attacker server that must never be asked), `crit`. Every row is 401
//! `invalid_token` (or 400 / 431 where PRODUCT.md says so), with the exact challenges,
//! `Cache-Control: no-store`, a problem+json `code`, and never an identity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod jwt_cases;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use common::tokens::{Signer, b64, mint};
use common::*;
use jwt_cases::*;

/// Every capitalisation of `none` not already in jwt_attacks.rs, and `alg` values that are
/// not exactly a supported name.
#[test]
fn alg_spellings() {
    let warden = server();
    let good = parts(&mint(Signer::Es256, &valid()));
    let mut cases = Vec::new();
    for mask in 0..16u8 {
        let alg: String = "none"
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mask & (1 << i) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        if ["none", "None", "NONE", "nOnE"].contains(&alg.as_str()) {
            continue; // in jwt_attacks.rs
        }
        let h = json!({"alg": alg, "typ": "JWT", "kid": "es-1"});
        let token = format!("{}.{}.", b64(h.to_string()), good[1]);
        cases.push(invalid(format!("alg {alg}"), token));
    }
    #[rustfmt::skip]
    let spellings = [
        ("alg es256 (lowercase)", json!("es256")),
        ("alg `ES256 ` (trailing space)", json!("ES256 ")),
        ("alg null", Value::Null),
        ("alg as an array", json!(["ES256"])),
        ("alg as a number", json!(256)),
        ("alg HS256 on the EC kid, real ES256 signature", json!("HS256")),
        ("alg ES384 on the ES256 key", json!("ES384")),
        ("alg ES256K", json!("ES256K")),
        ("alg RSA-OAEP (a JWE algorithm)", json!("RSA-OAEP")),
    ];
    for (name, alg) in spellings {
        let h = json!({"alg": alg, "typ": "JWT", "kid": "es-1"});
        cases.push(invalid(name, es_signed(&h, &valid())));
    }
    let eddsa_on_ec = json!({"alg": "EdDSA", "kid": "es-1"}).to_string();
    #[rustfmt::skip]
    cases.extend([
        invalid("alg missing", es_signed(&json!({"typ": "JWT", "kid": "es-1"}), &valid())),
        invalid("ES256 token naming the RSA kid", es_signed(&json!({"alg": "ES256", "kid": "rs-1"}), &valid())),
        invalid("EdDSA token naming the EC kid", signed_text(&eddsa_on_ec, &valid().to_string(), Signer::Ed25519)),
    ]);
    run("alg spellings", &warden, &cases);
}

/// HS256/384/512 keyed with the public keys' bytes: PEM, SPKI DER, PKCS#1 DER, the JWK JSON.
#[test]
fn hmac_keyed_with_public_keys() {
    let warden = server();
    let rsa_spki = pem_der("rs256.pub.pem");
    assert_eq!(rsa_spki[..4], [0x30, 0x82, 0x01, 0x22], "2048-bit SPKI");
    let rsa_pkcs1 = rsa_spki[24..].to_vec();
    assert_eq!(
        rsa_pkcs1[..4],
        [0x30, 0x82, 0x01, 0x0a],
        "PKCS#1 RSAPublicKey"
    );
    let mut ed_spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    ed_spki.extend(unb64(jwks_entry("ed-1")["x"].as_str().unwrap()));
    let pem = |name: &str| std::fs::read(data_file(name)).unwrap();
    #[rustfmt::skip]
    let secrets: Vec<(&str, &str, Vec<u8>)> = vec![
        ("RSA PEM", "rs-1", pem("rs256.pub.pem")),
        ("RSA SPKI DER", "rs-1", rsa_spki),
        ("RSA PKCS#1 DER", "rs-1", rsa_pkcs1),
        ("RSA JWK JSON", "rs-1", jwks_entry("rs-1").to_string().into_bytes()),
        ("EC PEM", "es-1", pem("es256.pub.pem")),
        ("EC SPKI DER", "es-1", pem_der("es256.pub.pem")),
        ("Ed25519 SPKI DER", "ed-1", ed_spki),
        ("empty secret", "es-1", Vec::new()),
    ];
    let mut cases = Vec::new();
    for (what, kid, secret) in &secrets {
        let key = EncodingKey::from_secret(secret);
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            for kid in [Some(*kid), None] {
                // jwt_attacks.rs has HS256 with the RSA PEM (rs-1, no kid) and the EC PEM (es-1).
                let pem_case = *what == "RSA PEM" || (*what == "EC PEM" && kid.is_some());
                if alg == Algorithm::HS256 && pem_case {
                    continue;
                }
                let mut h = json!({"alg": alg, "typ": "JWT"});
                if let Some(kid) = kid {
                    h["kid"] = kid.into();
                }
                let input = format!("{}.{}", b64(h.to_string()), b64(valid().to_string()));
                let name = format!("{alg:?} keyed with the {what}, kid {kid:?}");
                cases.push(invalid(name, sign_input(&input, &key, alg)));
            }
        }
    }
    run("HMAC keyed with public keys", &warden, &cases);
}

/// `kid`s that would hurt a key lookup through files or SQL, or that only look like ours.
#[test]
fn hostile_kids() {
    let warden = server();
    let mut cases = Vec::new();
    let long_fits = "k".repeat(5000);
    let kids = [
        "../../etc/passwd",
        "../../../../../../../dev/null",
        "/dev/null",
        "' OR 1=1 --",
        "es-1' OR '1'='1",
        "es-1\"; DROP TABLE keys; --",
        "es-1\u{0}",
        "es-1 ",
        " es-1",
        "ES-1",
        "es-1/../es-1",
        "",
        "*",
        "%",
        long_fits.as_str(),
    ];
    for kid in kids {
        let name = format!("kid {:?}", kid.get(..40).unwrap_or(kid));
        // A real ES256 signature: an unknown kid must not fall back to trying every key.
        let h = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
        cases.push(invalid(
            format!("{name}, ES256 by the real key"),
            es_signed(&h, &valid()),
        ));
        // The /dev/null trick: HS256 with an empty secret, as if the named file were the key.
        let h = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        let input = format!("{}.{}", b64(h.to_string()), b64(valid().to_string()));
        let token = sign_input(&input, &EncodingKey::from_secret(b""), Algorithm::HS256);
        cases.push(invalid(
            format!("{name}, HS256 with an empty secret"),
            token,
        ));
    }
    #[rustfmt::skip]
    let typed = [
        ("kid as an object (NoSQL operator)", json!({"$ne": ""})),
        ("kid as a number", json!(1)),
        ("kid as an array", json!(["es-1"])),
    ];
    for (name, kid) in typed {
        let h = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
        cases.push(invalid(name, es_signed(&h, &valid())));
    }
    // 10 000 characters of kid make the header alone over 8 KiB: the size limit answers first.
    let h = json!({"alg": "ES256", "typ": "JWT", "kid": "k".repeat(10_000)});
    cases.push(expect(
        "kid of 10 000 characters",
        es_signed(&h, &valid()),
        Want::TooLarge,
    ));
    run("hostile kid", &warden, &cases);
}

/// A server an attacker controls: answers every request with `body`, counting them.
struct AttackerServer {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl AttackerServer {
    fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.read(&mut [0; 4096]);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// `jku`, `x5u`, `x5c` and `jwk` carry or point at the attacker's key; the token is signed by
/// that key. None is used, and the attacker's server is never asked.
#[test]
fn key_carrying_headers() {
    let warden = server();
    let jwk_of = |key: &EncodingKey| {
        serde_json::to_value(Jwk::from_encoding_key(key, Algorithm::ES256).unwrap()).unwrap()
    };
    let mut attacker_jwk = jwk_of(&Signer::Other.key());
    attacker_jwk["kid"] = "attacker".into();
    let attacker = AttackerServer::start(json!({"keys": [attacker_jwk]}).to_string());
    // A real certificate with its key (the TLS test pair), as an attacker would make one.
    let tls_pem = std::fs::read(data_file("tls-key.pem")).unwrap();
    let tls_key = EncodingKey::from_ec_pem(&tls_pem).unwrap();
    let cert = STANDARD.encode(pem_der("tls-cert.pem"));
    let mut tls_jwk = jwk_of(&tls_key);
    tls_jwk["x5c"] = json!([cert]);
    let by_attacker = |h: Value| signed_text(&h.to_string(), &valid().to_string(), Signer::Other);
    let by_cert_key = |h: Value| {
        let input = format!("{}.{}", b64(h.to_string()), b64(valid().to_string()));
        sign_input(&input, &tls_key, Algorithm::ES256)
    };
    let jku = attacker.url("/jwks.json");
    let x5u = attacker.url("/cert.pem");
    #[rustfmt::skip]
    let cases = vec![
        invalid("jku to a live attacker JWKS, kid of its key", by_attacker(json!({"alg": "ES256", "jku": jku, "kid": "attacker"}))),
        invalid("jku to a live attacker JWKS, no kid", by_attacker(json!({"alg": "ES256", "jku": jku}))),
        invalid("jku to a live attacker JWKS, our kid", by_attacker(json!({"alg": "ES256", "jku": jku, "kid": "es-1"}))),
        invalid("x5u to a live attacker URL, no kid", by_attacker(json!({"alg": "ES256", "x5u": x5u}))),
        invalid("x5u to a live attacker URL, our kid", by_attacker(json!({"alg": "ES256", "x5u": x5u, "kid": "es-1"}))),
        invalid("x5c with a real self-signed certificate, no kid", by_cert_key(json!({"alg": "ES256", "x5c": [cert]}))),
        invalid("x5c with a real self-signed certificate, our kid", by_cert_key(json!({"alg": "ES256", "x5c": [cert], "kid": "es-1"}))),
        invalid("x5c with x5t#S256 set", by_cert_key(json!({"alg": "ES256", "x5c": [cert], "x5t#S256": "AAAA"}))),
        invalid("embedded jwk, kid of the attacker", by_attacker(json!({"alg": "ES256", "jwk": attacker_jwk, "kid": "attacker"}))),
        invalid("embedded jwk carrying x5c", by_cert_key(json!({"alg": "ES256", "jwk": tls_jwk}))),
        invalid("embedded jwk and jku together", by_attacker(json!({"alg": "ES256", "jwk": attacker_jwk, "jku": jku}))),
    ];
    run("key-carrying headers", &warden, &cases);
    std::thread::sleep(Duration::from_millis(200));
    let hits = attacker.hits.load(Ordering::SeqCst);
    assert_eq!(hits, 0, "warden fetched a URL named in a token header");
}

/// `crit`: warden understands no extension, so any `crit` is refused.
#[test]
fn crit_headers() {
    let warden = server();
    let crit = |extra: Value| {
        let mut h = json!({"alg": "ES256", "kid": "es-1"});
        h.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        es_signed(&h, &valid())
    };
    #[rustfmt::skip]
    let cases = vec![
        invalid("crit [b64] with b64 false (RFC 7797)", crit(json!({"b64": false, "crit": ["b64"]}))),
        invalid("crit names a registered header (alg)", crit(json!({"crit": ["alg"]}))),
        invalid("crit names a claim (exp)", crit(json!({"crit": ["exp"]}))),
        invalid("crit names an absent extension", crit(json!({"crit": ["http://example.com/ext"]}))),
        invalid("crit as a string", crit(json!({"crit": "x", "x": 1}))),
        invalid("crit empty (RFC 7515: MUST NOT be empty)", crit(json!({"crit": []}))),
    ];
    run("crit", &warden, &cases);
}
