//! Who is sent to the login page: browser navigations on rules with login on (302 for GET and
//! HEAD, 303 otherwise), never API clients, never through the nginx flavour, never on a rule
//! with `login = false`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::browser::*;
use common::*;

const DOC: &str = "/private/doc?x=1";
const DOC_LOGIN: &str = "/.warden/login?rd=%2Fprivate%2Fdoc%3Fx%3D1";

fn both() -> Vec<String> {
    vec![BEARER.to_owned(), BASIC.to_owned()]
}

/// The redirect every navigation that needs a login gets: status, `Location`, no caching, no
/// challenge, a small HTML page with a link.
fn assert_login_redirect(r: &Response, status: u16, location: &str) {
    assert_eq!(r.status, status, "{r:#?}");
    assert_eq!(r.all("location"), [location], "{r:#?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
    assert!(
        r.challenges().is_empty(),
        "a redirect has no challenge: {r:#?}"
    );
    assert_eq!(r.header("content-type"), Some(HTML), "{r:#?}");
    assert!(r.all("set-cookie").is_empty(), "{r:#?}");
}

fn assert_link(r: &Response, location: &str) {
    assert!(
        r.body.contains(&format!("<a href=\"{location}\"")),
        "no link to {location} in {}",
        r.body
    );
}

#[test]
fn navigations_are_sent_to_the_login_page_with_their_return_address() {
    let warden = Env::new(&standard_config()).serve();
    let navigations: [&[(&str, &str)]; 4] = [
        &[("Accept", BROWSER_ACCEPT)],
        &[("Accept", "*/*"), ("Sec-Fetch-Mode", "navigate")],
        &[("Sec-Fetch-Mode", "navigate")],
        &[("Accept", "text/html, application/json;q=0.5")],
    ];
    for headers in navigations {
        let r = warden.get(DOC, headers);
        assert_login_redirect(&r, 302, DOC_LOGIN);
        assert_link(&r, DOC_LOGIN);
    }
    // A role rule needs a login too, and the whole path and query travel, encoded.
    let r = warden.get(
        "/admin/users?page=2&sort=name",
        &[("Accept", BROWSER_ACCEPT)],
    );
    assert_login_redirect(
        &r,
        302,
        "/.warden/login?rd=%2Fadmin%2Fusers%3Fpage%3D2%26sort%3Dname",
    );
}

#[test]
fn other_methods_get_303() {
    let warden = Env::new(&standard_config()).serve();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = warden.send(method, DOC, &[("Accept", BROWSER_ACCEPT)]);
        assert_login_redirect(&r, 303, DOC_LOGIN);
        assert_link(&r, DOC_LOGIN);
        let r = warden.send(method, DOC, &[("Sec-Fetch-Mode", "navigate")]);
        assert_login_redirect(&r, 303, DOC_LOGIN);
    }
}

#[test]
fn head_of_a_navigation_is_the_same_302_without_a_body() {
    let warden = Env::new(&standard_config()).serve();
    let headers = [("Accept", BROWSER_ACCEPT)];
    let get = warden.get(DOC, &headers);
    let head = warden.send("HEAD", DOC, &headers);
    assert_login_redirect(&head, 302, DOC_LOGIN);
    assert_eq!(head.body, "", "HEAD has no body");
    assert_eq!(stable_headers(&head), stable_headers(&get));
    assert!(!get.body.is_empty());
}

#[test]
fn api_clients_get_the_401_and_never_a_redirect() {
    let warden = Env::new(&standard_config()).serve();
    let clients: [&[(&str, &str)]; 6] = [
        &[("Accept", "*/*"), ("Sec-Fetch-Mode", "cors")],
        &[("Accept", "*/*")],
        &[("Accept", "application/json")],
        &[],
        &[("Accept", "text/html;q=0.5, application/json")],
        &[("Accept", "application/json"), ("Sec-Fetch-Mode", "cors")],
    ];
    for headers in clients {
        for method in ["GET", "POST"] {
            let r = warden.send(method, DOC, headers);
            assert_eq!(r.status, 401, "{method} {headers:?}: {r:#?}");
            assert_eq!(r.challenges(), both(), "{headers:?}");
            assert_eq!(r.header("location"), None, "{headers:?}");
            assert_eq!(r.header("content-type"), Some(PROBLEM), "{headers:?}");
            assert_eq!(r.all("cache-control"), ["no-store"]);
            assert_eq!(r.code(), "unauthenticated", "{headers:?}");
        }
    }
}

/// `Sec-Fetch-Mode: cors` is a script's `fetch`, never a navigation, whatever it accepts: a
/// redirect would hand the script the login page instead of a 401 it can act on.
#[test]
fn a_fetch_that_accepts_html_still_gets_the_401() {
    let warden = Env::new(&standard_config()).serve();
    for accept in ["text/html", BROWSER_ACCEPT] {
        let r = warden.get(DOC, &[("Sec-Fetch-Mode", "cors"), ("Accept", accept)]);
        assert_eq!(r.status, 401, "{accept}: {r:#?}");
        assert_eq!(r.header("location"), None, "{accept}");
        assert_eq!(r.challenges(), both(), "{accept}");
    }
}

#[test]
fn a_rule_with_login_off_gives_browsers_the_401_page() {
    let config = standard_config()
        + "[[rule]]\nname = \"internal\"\npath = \"/internal/**\"\nrequire = \"authenticated\"\n\
           login = false\n";
    let warden = Env::new(&config).serve();
    for headers in [
        vec![("Accept", BROWSER_ACCEPT)],
        vec![("Sec-Fetch-Mode", "navigate")],
    ] {
        let r = warden.get("/internal/x", &headers);
        assert_eq!(r.status, 401, "{r:#?}");
        assert_eq!(r.header("location"), None);
        assert_eq!(r.challenges(), both());
        assert_eq!(r.header("content-type"), Some(HTML));
        assert!(r.body.contains("<html"), "{}", r.body);
        assert!(r.body.contains(&r.decision()), "{}", r.body);
    }
    // The other rules still redirect.
    let r = warden.get("/private/x", &[("Accept", BROWSER_ACCEPT)]);
    assert_login_redirect(&r, 302, "/.warden/login?rd=%2Fprivate%2Fx");
}

#[test]
fn the_nginx_flavour_names_the_redirect_on_a_401() {
    let warden = Env::new(&standard_config()).serve();
    let ended = r#"Bearer realm="example", error="invalid_token", error_description="the session has ended""#;
    for (headers, bearer) in [
        (
            vec![("X-Original-URI", DOC), ("Accept", BROWSER_ACCEPT)],
            BEARER,
        ),
        (
            vec![("X-Original-URI", DOC), ("Sec-Fetch-Mode", "navigate")],
            BEARER,
        ),
        (
            vec![
                ("X-Original-URI", DOC),
                ("Accept", BROWSER_ACCEPT),
                ("Cookie", "warden_session=wds_unknown"),
            ],
            ended,
        ),
    ] {
        // nginx makes a 500 of a 302 from auth_request: the 401 names the redirect for the
        // recipe's error_page instead.
        let r = warden.get("/.warden/nginx", &headers);
        assert_eq!(r.status, 401, "{headers:?}: {r:#?}");
        assert_eq!(r.header("location"), Some(DOC_LOGIN));
        assert_eq!(r.all("x-warden-status"), ["302"]);
        assert_eq!(
            r.challenges(),
            [format!("{bearer}, {BASIC}")],
            "one line for nginx"
        );
    }
}

/// A session cookie that is not (or no longer) valid sends a navigation to the login page
/// again, and gives API clients the 401.
#[test]
fn an_unknown_session_cookie_is_a_trip_to_the_login_page() {
    let warden = Env::new(&standard_config()).serve();
    for cookie in [
        "warden_session=wds_not-a-session",
        "warden_session=garbage",
        "__Host-warden_session=wds_not-a-session",
    ] {
        let r = warden.get(DOC, &[("Accept", BROWSER_ACCEPT), ("Cookie", cookie)]);
        assert_login_redirect(&r, 302, DOC_LOGIN);
        let r = warden.get(DOC, &[("Accept", "application/json"), ("Cookie", cookie)]);
        assert_eq!(r.status, 401, "{cookie}: {r:#?}");
        assert_eq!(r.header("location"), None);
        assert_eq!(r.challenges().len(), 2, "{r:#?}");
        assert_eq!(r.challenges()[1], BASIC);
    }
}

/// Login is on whenever Basic is configured: the page exists. Without Basic (and no `[login]`)
/// browsers get the 401 page.
#[test]
fn login_follows_basic() {
    let warden = Env::new(&standard_config()).serve();
    let r = warden.get(LOGIN, &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    drop(warden);
    let warden = Env::new(&replace(&standard_config(), "[authn.basic]\n", "")).serve();
    let r = warden.get(DOC, &[("Accept", BROWSER_ACCEPT)]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("location"), None);
    assert_eq!(r.challenges(), [BEARER]);
    assert_eq!(r.header("content-type"), Some(HTML));
}
