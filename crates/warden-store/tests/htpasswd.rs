//! Apache htpasswd files against real hashes from Apache's and OpenSSL's tools.
//!
//! `data/users.htpasswd` was made with `htpasswd` from apache2-utils 2.4.71 (Debian 12):
//!
//! ```sh
//! htpasswd -cbB -C 5 f bcrypt 'bcrypt-secret'
//! htpasswd -bm f apr1 'apr1-pässwörd'
//! htpasswd -bs f sha1 'sha1:secret'
//! htpasswd -b2 f sha256 'sha256-secret'
//! htpasswd -b2 -r 6000 f sha256r 'sha256-rounds'
//! htpasswd -b5 f sha512 'sha512-secret'
//! htpasswd -bd f des 'despass'
//! htpasswd -bp f plain 'plain-secret'
//! htpasswd -bm f crlf 'crlf-secret'
//! { printf '# warden test fixture: made with htpasswd from apache2-utils, see tests/htpasswd.rs\n\n'
//!   head -n 8 f; tail -n 1 f | tr -d '\n'; printf '\r\n'; } > users.htpasswd
//! ```
//!
//! So line 1 is a comment, line 2 is blank, users start on line 3 (`des` is
//! line 9, `plain` line 10) and the last line ends in CRLF. The extra vectors in
//! `CROSS_CHECKS` come from OpenSSL 3.0.19 and Debian 12's libxcrypt:
//!
//! ```sh
//! openssl passwd -apr1 -salt saltsalt 'openssl-apr1'
//! openssl passwd -apr1 -salt ab ''
//! openssl passwd -apr1 -salt 'x.Y/9z' 'a much longer password than sixteen bytes, to exercise the alt loop'
//! openssl passwd -5 -salt saltstringsaltst 'openssl-sha256'
//! openssl passwd -5 -salt a 'x'
//! openssl passwd -6 -salt saltstringsaltst 'openssl-sha512'
//! python3 -c 'import crypt; print(crypt.crypt("This is just a test", "$5$rounds=1000$saltsalt"))'
//! python3 -c 'import crypt; print(crypt.crypt("This is just a test", "$6$rounds=1000$saltsalt"))'
//! python3 -c 'import crypt; print(crypt.crypt("This is just a test", "$5$rounds=5000$toolongsaltstring"))'
//! ```
#![allow(clippy::unwrap_used)]

use warden_store::{Htpasswd, HtpasswdCheck};

const FIXTURE: &str = include_str!("data/users.htpasswd");

/// Every usable user in the fixture and its password.
const USERS: [(&str, &str); 7] = [
    ("bcrypt", "bcrypt-secret"),
    ("apr1", "apr1-pässwörd"),
    ("sha1", "sha1:secret"),
    ("sha256", "sha256-secret"),
    ("sha256r", "sha256-rounds"),
    ("sha512", "sha512-secret"),
    ("crlf", "crlf-secret"),
];

/// Hashes from `openssl passwd` and libxcrypt, with their passwords.
const CROSS_CHECKS: [(&str, &str); 9] = [
    ("$apr1$saltsalt$5sXPUzSpDP6RaQ07l6wfj/", "openssl-apr1"),
    ("$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.", ""),
    (
        "$apr1$x.Y/9z$7W6oSHMkGGe0hd54evXil.",
        "a much longer password than sixteen bytes, to exercise the alt loop",
    ),
    (
        "$5$saltstringsaltst$M5yVR6h.otsJ35dxQ7KjoVJtIhM4GS2Nl1mO3M24mt1",
        "openssl-sha256",
    ),
    ("$5$a$m5PPB7rYZmTs0gzCcO.9R/qmXtGr3g/5s2bl1flV9x2", "x"),
    (
        "$6$saltstringsaltst$T..wPsTMl2sDSMH/3QA/ZuJU60NSGmm8vz9j48M5PyeKh.WehNRn0FO.wWUb36US/vXsfOGeY8R3m7XaKSdPM0",
        "openssl-sha512",
    ),
    (
        "$5$rounds=1000$saltsalt$F46.LTRb8hLphxo.pgUWBVB3pIQCt7sjuYQgyrj01wA",
        "This is just a test",
    ),
    (
        "$6$rounds=1000$saltsalt$/YgYuu8uvOlq4xroJLutPhuCmqzdDUiXQUpaaPX8eWO7G8Pm.cTnCRl5aHQDgXyBnSYy6B3mY9r5gYGBt93cg.",
        "This is just a test",
    ),
    (
        "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5",
        "This is just a test",
    ),
];

/// The fixture's hash for `user`, as written in the file.
fn fixture_hash(user: &str) -> &'static str {
    let prefix = format!("{user}:");
    let line = FIXTURE.lines().find(|l| l.starts_with(&prefix)).unwrap();
    line[prefix.len()..].trim_end_matches('\r')
}

#[test]
fn every_format_matches_its_password_only() {
    let file = Htpasswd::parse(FIXTURE);
    for (user, password) in USERS {
        assert_eq!(file.check(user, password), HtpasswdCheck::Match, "{user}");
        let wrong = format!("{password}x");
        assert_eq!(file.check(user, &wrong), HtpasswdCheck::Mismatch, "{user}");
        assert_eq!(file.check(user, ""), HtpasswdCheck::Mismatch, "{user}");
        let other = if user == "apr1" {
            "sha1:secret"
        } else {
            "apr1-pässwörd"
        };
        assert_eq!(file.check(user, other), HtpasswdCheck::Mismatch, "{user}");
    }
}

#[test]
fn unknown_and_skipped_users_are_no_such_user() {
    let file = Htpasswd::parse(FIXTURE);
    for user in [
        "nobody",
        "des",
        "plain",
        "",
        "BCRYPT",
        "bcrypt ",
        "# warden test fixture",
    ] {
        assert!(!file.contains(user), "{user}");
        assert_eq!(
            file.check(user, "despass"),
            HtpasswdCheck::NoSuchUser,
            "{user}"
        );
    }
    assert_eq!(
        file.check("plain", "plain-secret"),
        HtpasswdCheck::NoSuchUser
    );
}

#[test]
fn fixture_shape() {
    let file = Htpasswd::parse(FIXTURE);
    assert_eq!(file.len(), USERS.len());
    assert!(!file.is_empty());
    for (user, _) in USERS {
        assert!(file.contains(user), "{user}");
    }
    assert!(Htpasswd::parse("# only a comment\n\n  \r\n").is_empty());
}

#[test]
fn warnings_name_des_and_plain_without_hashes() {
    let file = Htpasswd::parse(FIXTURE);
    assert_eq!(
        file.warnings(),
        [
            "line 9: user `des`: unsupported hash format",
            "line 10: user `plain`: unsupported hash format",
        ]
    );
    let secrets = [fixture_hash("des"), fixture_hash("plain"), "despass"];
    for warning in file.warnings() {
        for secret in secrets {
            assert!(!warning.contains(secret), "{warning} leaks {secret}");
        }
    }
}

#[test]
fn unreadable_hash_warning_has_no_hash_text() {
    let hash = "$apr1$toolongsalt$5sXPUzSpDP6RaQ07l6wfj/";
    let file = Htpasswd::parse(&format!("\n{hash}\nbob:{hash}\n"));
    assert!(file.is_empty());
    assert_eq!(file.warnings().len(), 2);
    assert_eq!(file.warnings()[0], "line 2: no `:` between user and hash");
    assert!(file.warnings()[1].starts_with("line 3: user `bob`: unreadable apr1 hash"));
    assert!(file.warnings().iter().all(|w| !w.contains("toolongsalt")));
}

#[test]
fn user_is_split_at_the_first_colon() {
    let sha1 = fixture_hash("sha1");
    let file = Htpasswd::parse(&format!("al:ice:{sha1}\n"));
    assert!(!file.contains("al:ice"));
    assert!(!file.contains("al"));
    assert_eq!(
        file.check("al:ice", "sha1:secret"),
        HtpasswdCheck::NoSuchUser
    );
    assert_eq!(
        file.warnings(),
        ["line 1: user `al`: unsupported hash format"]
    );
}

#[test]
fn bcrypt_prefixes_are_equivalent() {
    let original = fixture_hash("bcrypt");
    assert!(original.starts_with("$2y$"));
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let hash = format!("{prefix}{}", &original[4..]);
        let file = Htpasswd::parse(&format!("u:{hash}\n"));
        assert!(file.warnings().is_empty(), "{prefix}");
        assert_eq!(
            file.check("u", "bcrypt-secret"),
            HtpasswdCheck::Match,
            "{prefix}"
        );
        assert_eq!(
            file.check("u", "bcrypt-secreT"),
            HtpasswdCheck::Mismatch,
            "{prefix}"
        );
    }
}

#[test]
fn crlf_line_matches_only_without_its_cr() {
    assert!(FIXTURE.ends_with("\r\n"));
    let file = Htpasswd::parse(FIXTURE);
    assert_eq!(file.check("crlf", "crlf-secret"), HtpasswdCheck::Match);
    assert_eq!(
        file.check("crlf\r", "crlf-secret"),
        HtpasswdCheck::NoSuchUser
    );
}

#[test]
fn tampered_hashes_never_match() {
    let headers = [
        ("bcrypt", "$2y$05$"),
        ("apr1", "$apr1$"),
        ("sha1", "{SHA}"),
        ("sha256", "$5$"),
        ("sha256r", "$5$rounds=6000$"),
        ("sha512", "$6$"),
    ];
    for (user, header) in headers {
        let password = USERS.iter().find(|(u, _)| *u == user).unwrap().1;
        let hash = fixture_hash(user);
        assert!(hash.starts_with(header), "{user}");
        // Every salt and digest character, one at a time.
        for at in header.len()..hash.len() {
            let mut bytes = hash.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            let file = Htpasswd::parse(&format!("{user}:{tampered}\n"));
            let outcome = file.check(user, password);
            assert_ne!(outcome, HtpasswdCheck::Match, "{user} changed at {at}");
        }
    }
}

#[test]
fn openssl_and_libxcrypt_vectors_verify() {
    for (hash, password) in CROSS_CHECKS {
        let file = Htpasswd::parse(&format!("u:{hash}\n"));
        assert!(file.warnings().is_empty(), "{hash}: {:?}", file.warnings());
        assert_eq!(file.check("u", password), HtpasswdCheck::Match, "{hash}");
        let wrong = format!("{password}!");
        assert_eq!(file.check("u", &wrong), HtpasswdCheck::Mismatch, "{hash}");
    }
}

#[test]
fn debug_never_prints_hashes() {
    let file = Htpasswd::parse(FIXTURE);
    let shown = format!("{file:?}");
    for (user, _) in USERS {
        assert!(!shown.contains(fixture_hash(user)), "{shown}");
    }
    assert!(shown.contains("users: 7"), "{shown}");
}
