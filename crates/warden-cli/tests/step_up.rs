//! Step-up (RFC 9470) for browsers and nginx: a navigation whose sign-in is too weak or too old
//! goes to the login page with `acr_values` / `max_age`, except right after a sign-in (an
//! explanatory 401 page instead of a loop); the nginx flavour answers one challenge line.
//! The API rows of the same rules are in the status-contract table (`contract.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tokens::{Signer, claims, mint, now};
use common::*;

const RULES: &str = r#"
[[rule]]
name = "payments"
path = "/payments/**"
require = { acr = ["mfa", "phr"] }
[[rule]]
name = "settings"
path = "/settings/**"
require = { max_age = 300 }
[[rule]]
name = "wire"
path = "/wire/**"
require = { acr = ["mfa"], max_age = 300 }
"#;

const WIRE_ACR: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa", max_age="300""#;

fn server() -> Warden {
    Env::new(&(standard_config() + RULES)).serve()
}

/// `Authorization` for alice, who signed in with `acr` this many seconds ago.
fn signed_in(acr: &str, ago: u64) -> String {
    let mut c = claims("alice", &["admin"], "");
    c["acr"] = acr.into();
    c["auth_time"] = (now() - ago).into();
    bearer(&mint(Signer::Es256, &c))
}

#[test]
fn navigations_go_to_the_login_page_asking_for_the_acr_and_max_age() {
    let warden = server();
    let navigate = |method: &str, target: &str, auth: &str| {
        let h = [("Authorization", auth), ("Accept", BROWSER_ACCEPT)];
        warden.send(method, target, &h)
    };
    let pwd = signed_in("pwd", 3600);
    for (method, target, status, location) in [
        (
            "GET",
            "/wire/1?x=1",
            302,
            "/.warden/login?rd=%2Fwire%2F1%3Fx%3D1&acr_values=mfa&max_age=300",
        ),
        (
            "POST",
            "/wire/1",
            303,
            "/.warden/login?rd=%2Fwire%2F1&acr_values=mfa&max_age=300",
        ),
        (
            "GET",
            "/payments/1",
            302,
            "/.warden/login?rd=%2Fpayments%2F1&acr_values=mfa%20phr",
        ),
        (
            "GET",
            "/settings/x",
            302,
            "/.warden/login?rd=%2Fsettings%2Fx&max_age=300",
        ),
    ] {
        let r = navigate(method, target, &pwd);
        assert_eq!(r.status, status, "{method} {target}: {r:#?}");
        assert_eq!(r.all("location"), [location], "{method} {target}");
        assert!(r.challenges().is_empty(), "{r:#?}");
        assert_eq!(r.header("content-type"), Some(HTML), "{r:#?}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{r:#?}");
    }
    // Met: through, no redirect.
    let r = navigate("GET", "/wire/1", &signed_in("mfa", 5));
    assert_eq!(r.status, 200, "{r:#?}");
    // An API client is never redirected: the 401 and its challenge.
    let h = [
        ("Authorization", pwd.as_str()),
        ("Accept", "application/json"),
    ];
    let r = warden.get("/wire/1", &h);
    assert_eq!(r.status, 401, "{r:#?}");
    assert!(r.header("location").is_none(), "{r:#?}");
    assert_eq!(r.challenges(), [WIRE_ACR, BASIC]);
    assert_eq!(r.code(), "insufficient_user_authentication");
}

#[test]
fn right_after_a_sign_in_a_step_up_is_explained_not_redirected() {
    let warden = server();
    let auth = signed_in("pwd", 10);
    let h = [
        ("Authorization", auth.as_str()),
        ("Accept", BROWSER_ACCEPT),
        ("Cookie", "warden_signed_in=1"),
    ];
    let r = warden.get("/wire/1", &h);
    assert_eq!(r.status, 401, "{r:#?}");
    assert!(r.header("location").is_none(), "{r:#?}");
    assert_eq!(r.challenges(), [WIRE_ACR, BASIC]);
    assert_eq!(r.header("content-type"), Some(HTML), "{r:#?}");
    assert!(
        r.body
            .contains("You signed in, but not in a way this page accepts")
    );
    assert!(r.body.contains("signed in as <strong>alice</strong>"));
    assert!(
        r.body.contains(
            "href=\"/.warden/login?rd=%2Fwire%2F1&amp;acr_values=mfa&amp;max_age=300\">Sign in again</a>"
        ),
        "{}",
        r.body
    );
    assert!(r.body.contains(&r.decision()), "{}", r.body);
    assert!(leaks(&r.body).is_empty(), "{:?}", leaks(&r.body));
}

#[test]
fn the_nginx_flavour_answers_a_step_up_like_any_401() {
    let warden = server();
    let auth = signed_in("pwd", 3600);
    let nginx = |extra: &[(&str, &str)]| {
        let mut h = vec![
            ("X-Original-URI", "/wire/1"),
            ("Authorization", auth.as_str()),
        ];
        h.extend_from_slice(extra);
        warden.get("/.warden/nginx", &h)
    };
    let r = nginx(&[("Accept", "application/json")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("x-warden-status"), Some("401"), "{r:#?}");
    assert_eq!(r.challenges(), [format!("{WIRE_ACR}, {BASIC}")]);
    assert!(r.header("location").is_none(), "{r:#?}");
    // A navigation: nginx makes a 500 of a 302, so the 401 names the redirect.
    let r = nginx(&[("Accept", BROWSER_ACCEPT)]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("x-warden-status"), Some("302"), "{r:#?}");
    assert_eq!(
        r.all("location"),
        ["/.warden/login?rd=%2Fwire%2F1&acr_values=mfa&max_age=300"]
    );
    assert_eq!(r.challenges().len(), 1, "{r:#?}");
}
