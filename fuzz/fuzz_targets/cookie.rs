//! Cookie header parsing: never panics; a value found is a substring of the header.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use warden_core::cookies;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n').take(3) {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            headers.append(http::header::COOKIE, v);
        }
    }
    for name in [cookies::SESSION, cookies::SESSION_HOST, cookies::LOGIN_MARKER, ""] {
        if let Some(value) = cookies::value(&headers, name) {
            let found = headers
                .get_all(http::header::COOKIE)
                .iter()
                .any(|h| h.to_str().is_ok_and(|h| h.contains(value)));
            assert!(found, "{value:?} is not in the header");
        }
    }
    let _ = cookies::session(&headers);
});
