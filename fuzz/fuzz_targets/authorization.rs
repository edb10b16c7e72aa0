//! `Authorization` (and API-key) header syntax: never panics; what it accepts is well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::credentials::{Presented, RawCredentials, check_sizes, extract};

fuzz_target!(|data: &[u8]| {
    // Up to two `Authorization` lines and one API-key line, separated by newlines.
    let mut lines = data.split(|b| *b == b'\n');
    let authorization: Vec<Vec<u8>> = lines.by_ref().take(2).map(<[u8]>::to_vec).collect();
    let api_key: Vec<Vec<u8>> = lines.take(1).map(<[u8]>::to_vec).collect();
    let raw = RawCredentials {
        authorization,
        api_key,
        ..RawCredentials::default()
    };
    if check_sizes(&raw).is_err() {
        return;
    }
    match extract(&raw) {
        Ok(Presented::Bearer(token)) => {
            // RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
            let body = token.trim_end_matches('=');
            assert!(!body.is_empty(), "empty bearer token accepted");
            assert!(
                body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
                "bearer token outside b64token: {token:?}"
            );
        }
        Ok(Presented::Basic { user, .. }) => assert!(!user.contains(':'), "user with a colon"),
        _ => {}
    }
});
