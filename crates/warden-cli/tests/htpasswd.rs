#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Basic against an Apache htpasswd file next to the store: the formats nginx accepts, roles
//! from the configuration, and changes seen by a running server within a second or so.

mod common;

use std::time::Duration;

use common::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../warden-store/tests/data/users.htpasswd"
);

fn serve_with_file() -> Warden {
    // Polling for a reload fails on purpose many times: keep the throttle out of the way.
    let limits = "\n[limits]\nfailures_per_ip = 10000\nfailures_per_user = 10000\n";
    let env = Env::new(
        &(replace(
            &standard_config(),
            "[authn.basic]\n",
            "[authn.basic]\nhtpasswd = \"users.htpasswd\"\n[authn.basic.roles]\nbcrypt = [\"admin\"]\napr1 = [\"admin\", \"ops\"]\n",
        ) + limits),
    );
    std::fs::copy(FIXTURE, env.dir.path.join("users.htpasswd")).unwrap();
    env.serve()
}

#[test]
fn every_supported_format_signs_in_and_wrong_passwords_do_not() {
    let w = serve_with_file();
    let users = [
        ("bcrypt", "bcrypt-secret"),
        ("apr1", "apr1-pässwörd"),
        ("sha1", "sha1:secret"),
        ("sha256", "sha256-secret"),
        ("sha256r", "sha256-rounds"),
        ("sha512", "sha512-secret"),
        ("crlf", "crlf-secret"),
    ];
    for (user, password) in users {
        let ok = w.get("/private/x", &[("Authorization", &basic(user, password))]);
        assert_eq!(ok.status, 200, "{user}: {}", ok.body);
        assert_eq!(ok.header("x-auth-subject"), Some(user));
        assert_eq!(ok.header("x-auth-method"), Some("basic"));
        let bad = w.get("/private/x", &[("Authorization", &basic(user, "wrong"))]);
        assert_eq!(bad.status, 401, "{user}");
        assert_eq!(bad.challenges(), vec![BEARER.to_owned(), BASIC.to_owned()]);
    }
    // DES and plaintext lines are refused (nginx would take them; they are not safe to keep).
    for (user, password) in [("des", "despass"), ("plain", "plain-secret")] {
        assert_eq!(
            w.get("/private/x", &[("Authorization", &basic(user, password))])
                .status,
            401,
            "{user}"
        );
    }
}

#[test]
fn roles_come_from_the_configuration() {
    let w = serve_with_file();
    let admin = w.get(
        "/admin/x",
        &[("Authorization", &basic("apr1", "apr1-pässwörd"))],
    );
    assert_eq!(admin.status, 200);
    assert_eq!(admin.header("x-auth-roles"), Some("admin,ops"));
    let plain = w.get(
        "/admin/x",
        &[("Authorization", &basic("sha1", "sha1:secret"))],
    );
    assert_eq!(plain.status, 403);
    assert_eq!(plain.header("www-authenticate"), None);
}

#[test]
fn store_users_and_file_users_coexist() {
    let w = serve_with_file();
    w.add_user("carol", "carol-store-pw", &["admin"]);
    let carol = w.get(
        "/admin/x",
        &[("Authorization", &basic("carol", "carol-store-pw"))],
    );
    assert_eq!(carol.status, 200);
    assert_eq!(carol.header("x-auth-subject"), Some("carol"));
    let file = w.get(
        "/admin/x",
        &[("Authorization", &basic("bcrypt", "bcrypt-secret"))],
    );
    assert_eq!(file.status, 200);
}

#[test]
fn a_changed_file_is_reloaded_and_a_broken_one_keeps_the_old_users() {
    let w = serve_with_file();
    let path = w.dir.path.join("users.htpasswd");
    let ok = |user: &str, pw: &str| {
        w.get("/private/x", &[("Authorization", &basic(user, pw))])
            .status
            == 200
    };
    assert!(ok("sha1", "sha1:secret"));
    // Replace the file: `sha1` now has another password ({SHA} of "rotated").
    std::fs::write(&path, "sha1:{SHA}tj9vGhn7EbdIiWOsEW4MX0OI6Fs=\n").unwrap();
    poll_until(Duration::from_secs(5), "the new file to be read", || {
        ok("sha1", "rotated").then_some(())
    });
    assert!(!ok("sha1", "sha1:secret"));
    assert!(
        !ok("bcrypt", "bcrypt-secret"),
        "users removed from the file are gone"
    );
    // Deleting the file keeps the last good users.
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(ok("sha1", "rotated"));
    assert!(w.log().contains("htpasswd unreadable"), "{}", w.log());
}

#[test]
fn a_missing_file_stops_the_start_with_a_clear_error() {
    let env = Env::new(&replace(
        &standard_config(),
        "[authn.basic]\n",
        "[authn.basic]\nhtpasswd = \"nope.htpasswd\"\n",
    ));
    let out = env.cli(&["serve"], None);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("cannot read the htpasswd file"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nope.htpasswd"), "{}", out.stderr);
}
