//! ES256 verification alone, on one core: the bound for the "unique tokens" scenario, where
//! every request carries a token never seen before so no cache can help.
//!
//! Same key type and token shape as the load scenarios (EC P-256, the claims of `mint`).
//! Measured in thread CPU time (benches/cputime.rs), so other work on the machine does not
//! inflate it. `cargo bench --bench verify` (run.py runs it pinned with `taskset -c 0`).

use std::hint::black_box;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use criterion::{Criterion, criterion_group, criterion_main};

mod cputime;
use cputime::ThreadCpuTime;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use warden_core::Config;
use warden_core::jwt::{self, KeySet};
use warden_bench::{claims, jwks_for_point};

const NOW: u64 = 1_800_000_000;

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("key generation");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .expect("key");
    let jwks = jwks_for_point(pair.public_key().as_ref(), "bench").expect("jwks");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("bench".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims("https://idp.bench", "api", "bench", &["admin"], 0, NOW, 3600),
        &EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .expect("token");

    // What warden runs for a token it has not seen: header, signature, claims, identity.
    let keys = KeySet::from_jwks(jwks.as_bytes()).expect("key set");
    let config = Config::parse(
        r#"
version = 1
[server]
listen = "127.0.0.1:4180"
realm = "bench"
[authn.jwt]
jwks_file = "jwks.json"
issuer = "https://idp.bench"
audience = "api"
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
"#,
        Path::new("/"),
    )
    .expect("config");
    let policy = config.jwt.expect("jwt").policy;
    assert!(matches!(
        jwt::verify(&token, &keys, &policy, NOW),
        warden_core::Authn::Authenticated(_)
    ));

    // What the axum peer runs: jsonwebtoken::decode with the same key.
    let set: JwkSet = serde_json::from_str(&jwks).expect("jwks");
    let key = DecodingKey::from_jwk(&set.keys[0]).expect("decoding key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&["https://idp.bench"]);
    validation.set_audience(&["api"]);
    validation.validate_exp = false; // the token's exp is in the future of NOW, not of today
    jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).expect("decode");

    // The signature alone (ECDSA P-256 over SHA-256) through jsonwebtoken's crypto module.
    let (message, signature) = token.rsplit_once('.').expect("jws");

    let mut group = c.benchmark_group("es256");
    group.bench_function("signature", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::verify(
                black_box(signature),
                black_box(message.as_bytes()),
                &key,
                Algorithm::ES256,
            )
        })
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation))
    });
    group.bench_function("warden_jwt_verify", |b| {
        b.iter(|| jwt::verify(black_box(&token), &keys, &policy, NOW))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = cputime::criterion();
    targets = bench
}
criterion_main!(benches);
