//! JWT decoding and verification: never panics, and nothing the fuzzer writes without the
//! private key is ever accepted.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use warden_core::Authn;
use warden_core::jwt::{JwtPolicy, KeySet, verify};

static KEYS: LazyLock<Option<KeySet>> = LazyLock::new(|| {
    KeySet::from_jwks(include_bytes!("../../examples/quickstart/keys/jwks.json")).ok()
});

fuzz_target!(|data: &[u8]| {
    let (Some(keys), Ok(token)) = (KEYS.as_ref(), std::str::from_utf8(data)) else {
        return;
    };
    let policy = JwtPolicy {
        issuer: "https://idp.example".into(),
        audience: vec!["api".into()],
        roles_claim: "roles".into(),
        scopes_claim: "scope".into(),
        leeway: 30,
        typ: None,
    };
    let verdict = verify(token, keys, &policy, 1_800_000_000);
    assert!(!matches!(verdict, Authn::Authenticated(_)), "forged token accepted: {token:?}");
});
