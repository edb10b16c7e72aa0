//! CORS on a rule: preflights answered 204 (never 401/403) for the listed origin only, and
//! denials a page script can read (challenge exposed); rules without CORS judge `OPTIONS`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

const APP: &str = "https://app.example";
const EXPOSED: &str = "WWW-Authenticate, Retry-After, X-Warden-Decision";

fn server() -> Warden {
    let cors = "cors = { origins = [\"https://app.example\"], credentials = true }\n";
    let config = format!(
        "{}[[rule]]\nname = \"data\"\npath = \"/api/data/**\"\nrequire = \"authenticated\"\n{cors}\
         [[rule]]\nname = \"reports\"\npath = \"/api/reports/**\"\n\
         require = {{ roles = [\"admin\"] }}\n{cors}",
        standard_config()
    );
    let env = Env::new(&config);
    env.add_user("alice", "alice-pw", &["admin"]);
    env.add_user("bob", "bob-pw", &[]);
    env.serve()
}

fn preflight<'a>(origin: &'a str, method: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Sec-Fetch-Mode", "cors"),
        ("Accept", "*/*"),
    ]
}

#[test]
fn a_preflight_from_the_allowed_origin_is_answered_without_credentials() {
    let warden = server();
    for path in ["/api/data/items/7", "/api/reports/q3"] {
        let mut headers = preflight(APP, "DELETE");
        headers.push(("Access-Control-Request-Headers", "x-trace"));
        let r = warden.send("OPTIONS", path, &headers);
        assert_eq!(r.status, 204, "{path}: {r:#?}");
        assert!(r.challenges().is_empty(), "{r:#?}");
        assert_eq!(r.all("access-control-allow-origin"), [APP]);
        assert_eq!(r.all("access-control-allow-methods"), ["DELETE"]);
        assert_eq!(
            r.all("access-control-allow-headers"),
            ["authorization, content-type, x-api-key, x-trace"]
        );
        assert_eq!(r.all("access-control-allow-credentials"), ["true"]);
        assert_eq!(r.all("access-control-max-age"), ["600"]);
        assert_eq!(r.all("vary"), ["Origin"]);
        assert_eq!(r.body, "");
    }
    // Without asking for extra headers, `authorization` is still listed by name.
    let r = warden.send("OPTIONS", "/api/data/x", &preflight(APP, "PUT"));
    assert_eq!(r.status, 204, "{r:#?}");
    assert_eq!(r.all("access-control-allow-methods"), ["PUT"]);
    let allowed = r.header("access-control-allow-headers").unwrap_or("");
    assert!(
        allowed.split(", ").any(|h| h == "authorization"),
        "{allowed}"
    );
}

/// Credentials on a preflight are not judged either (browsers never send them, but a bad one
/// must not turn the 204 into a 401).
#[test]
fn a_preflight_is_never_a_401_or_403() {
    let warden = server();
    for extra in [
        ("Authorization", "Bearer abc.def.ghi"),
        ("Authorization", "Basic %%%"),
        ("Cookie", "warden_session=wds_gone"),
    ] {
        let mut headers = preflight(APP, "POST");
        headers.push(extra);
        let r = warden.send("OPTIONS", "/api/reports/x", &headers);
        assert_eq!(r.status, 204, "{extra:?}: {r:#?}");
        assert!(r.challenges().is_empty());
        assert_eq!(r.all("access-control-allow-origin"), [APP]);
    }
}

#[test]
fn a_preflight_from_another_origin_gets_a_bare_204() {
    let warden = server();
    for origin in [
        "https://evil.example",
        "http://app.example",
        "https://app.example.evil.example",
    ] {
        let r = warden.send("OPTIONS", "/api/data/x", &preflight(origin, "DELETE"));
        assert_eq!(r.status, 204, "{origin}: {r:#?}");
        assert_eq!(r.all("vary"), ["Origin"], "{origin}");
        assert!(r.challenges().is_empty(), "{origin}");
        for name in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-allow-methods",
            "access-control-allow-headers",
        ] {
            assert_eq!(r.header(name), None, "{origin}: {name}");
        }
    }
}

/// `Origin: null` (sandboxed frames, `data:` pages) is still an origin: the preflight is a
/// preflight, answered 204 without CORS headers, not judged.
#[test]
fn a_preflight_from_an_opaque_origin_is_a_bare_204() {
    let warden = server();
    let r = warden.send("OPTIONS", "/api/data/x", &preflight("null", "DELETE"));
    assert_eq!(r.status, 204, "{r:#?}");
    assert!(r.challenges().is_empty(), "{r:#?}");
    assert_eq!(r.header("access-control-allow-origin"), None);
}

fn assert_readable(r: &Response) {
    assert_eq!(r.all("access-control-allow-origin"), [APP], "{r:#?}");
    assert_eq!(r.all("access-control-expose-headers"), [EXPOSED], "{r:#?}");
    assert_eq!(
        r.all("access-control-allow-credentials"),
        ["true"],
        "{r:#?}"
    );
}

#[test]
fn a_cross_origin_401_exposes_the_challenge() {
    let warden = server();
    let headers = [
        ("Origin", APP),
        ("Sec-Fetch-Mode", "cors"),
        ("Accept", "*/*"),
    ];
    let r = warden.get("/api/data/x", &headers);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC]);
    assert_eq!(r.header("location"), None, "never a redirect for fetch");
    assert_eq!(r.header("content-type"), Some(PROBLEM));
    assert_readable(&r);
    // A wrong token: still readable.
    let with_token = [&headers[..], &[("Authorization", "Bearer abc.def.ghi")]].concat();
    let r = warden.get("/api/data/x", &with_token);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER_INVALID, BASIC]);
    assert_readable(&r);
    // Another origin gets the 401 without CORS headers.
    let r = warden.get("/api/data/x", &[("Origin", "https://evil.example")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC]);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-allow-credentials"), None);
}

#[test]
fn a_cross_origin_403_is_readable_too() {
    let warden = server();
    let bob = basic("bob", "bob-pw");
    let headers = [
        ("Origin", APP),
        ("Sec-Fetch-Mode", "cors"),
        ("Accept", "*/*"),
        ("Authorization", bob.as_str()),
    ];
    let r = warden.get("/api/reports/q3", &headers);
    assert_eq!(r.status, 403, "{r:#?}");
    assert!(r.challenges().is_empty());
    assert_eq!(r.code(), "forbidden");
    assert_readable(&r);
    let alice = basic("alice", "alice-pw");
    let r = warden.get(
        "/api/reports/q3",
        &[("Origin", APP), ("Authorization", &alice)],
    );
    assert_eq!(r.status, 200, "{r:#?}");
}

/// On a rule without CORS an `OPTIONS` preflight is an ordinary request: it needs credentials.
#[test]
fn without_cors_a_preflight_is_judged_like_any_request() {
    let warden = server();
    let r = warden.send("OPTIONS", "/private/x", &preflight(APP, "DELETE"));
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC]);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-allow-methods"), None);
    let r = warden.send("OPTIONS", "/admin/x", &preflight(APP, "DELETE"));
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("access-control-allow-origin"), None);
}
