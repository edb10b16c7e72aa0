//! Path normalization: never panics; the result is canonical (normalizing it again changes
//! nothing) and has no dot segments or empty segments left to bypass a rule with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::path::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(normal) = normalize(raw) else {
        return;
    };
    assert!(normal.starts_with('/'), "{raw:?} -> {normal:?}");
    assert!(!normal.contains("//"), "{raw:?} -> {normal:?}");
    for segment in normal.split('/') {
        assert!(segment != "." && segment != "..", "{raw:?} -> {normal:?}");
    }
    assert_eq!(normalize(&normal).as_deref(), Ok(normal.as_str()), "not idempotent: {raw:?}");
});
