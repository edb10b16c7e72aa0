//! The config loader: never panics, whatever the file; errors carry a line and a column.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = Config::parse(text, std::path::Path::new("/etc/warden")) {
        for issue in errors.issues {
            assert!(issue.line >= 1 && issue.column >= 1, "{issue:?}");
        }
    }
});
