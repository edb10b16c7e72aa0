//! The login page and form: CSRF (double-submit cookie and `Origin`), one answer for every
//! failed sign-in, the session cookie's attributes, a new session on every sign-in, and safe
//! return addresses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::browser::*;
use common::*;

const ABSOLUTE: &str =
    "[login]\nabsolute_seconds = 7200\nredirect_origins = [\"https://app.example\"]\n[network]\n";

/// The standard config with `absolute_seconds = 7200` and `https://app.example` as a return
/// origin; alice (ops) and bob (admin), dora disabled.
fn server() -> Warden {
    let env = Env::new(&replace(&standard_config(), "[network]\n", ABSOLUTE));
    env.add_user("alice", "alice-pw", &["ops"]);
    env.add_user("bob", "bob-pw", &["admin"]);
    env.add_user("dora", "dora-pw", &[]);
    env.cli(&["user", "disable", "dora"], None).ok();
    env.serve()
}

fn alice(rd: &str) -> Vec<(&str, &str)> {
    vec![("rd", rd), ("username", "alice"), ("password", "alice-pw")]
}

fn assert_page_headers(r: &Response) {
    assert_eq!(r.header("content-type"), Some(HTML), "{r:#?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
    assert!(csp.contains("form-action 'self'"), "CSP: {csp}");
    assert_eq!(r.all("x-frame-options"), ["DENY"]);
}

fn assert_no_session(r: &Response) {
    for name in [SESSION, SESSION_HOST, MARKER] {
        assert!(!sets_cookie(r, name), "{name} set: {r:#?}");
    }
}

fn assert_form_expired(r: &Response, what: &str) {
    assert_eq!(r.status, 403, "{what}: {r:#?}");
    assert_eq!(r.header("content-type"), Some(HTML), "{what}");
    assert!(r.body.contains("Form expired"), "{what}: {}", r.body);
    assert_no_session(r);
    assert_eq!(r.header("location"), None, "{what}");
}

#[test]
fn the_login_page_is_a_form_with_a_csrf_cookie() {
    let warden = server();
    let page = warden.form_page("/.warden/login?rd=%2Fprivate%2Fdoc%3Fx%3D1", &[]);
    let r = &page.response;
    assert_page_headers(r);
    let csrf = set_cookie(r, CSRF);
    csrf.assert_attributes(&[
        "Path=/.warden/",
        "Max-Age=3600",
        "HttpOnly",
        "SameSite=Strict",
    ]);
    assert_eq!(set_cookies(r).len(), 1, "only the CSRF cookie: {r:#?}");
    assert!(r.body.contains("method=\"post\""), "{}", r.body);
    assert!(r.body.contains("action=\"/.warden/login\""), "{}", r.body);
    assert!(has_input(&r.body, "username", None), "{}", r.body);
    assert!(
        has_input(&r.body, "password", Some("password")),
        "{}",
        r.body
    );
    assert!(has_input(&r.body, "csrf", Some("hidden")), "{}", r.body);
    assert!(has_input(&r.body, "rd", Some("hidden")), "{}", r.body);
    assert_eq!(
        form_value(&r.body, "rd").as_deref(),
        Some("/private/doc?x=1")
    );
    // A fresh token per page.
    let again = warden.form_page(LOGIN, &[]);
    assert_ne!(again.csrf, page.csrf);
    assert_eq!(form_value(&again.response.body, "rd").as_deref(), Some("/"));
}

/// The CSRF cookie is `Secure` unless the browser talks plain http to a loopback host.
#[test]
fn the_csrf_cookie_is_secure_except_on_loopback_http() {
    let warden = server();
    let port = warden.addr.port();
    let (v4, v6) = (format!("127.0.0.1:{port}"), format!("[::1]:{port}"));
    let base = [
        "Path=/.warden/",
        "Max-Age=3600",
        "HttpOnly",
        "SameSite=Strict",
    ];
    let secure = [&base[..], &["Secure"]].concat();
    // (headers, whether the cookie must be `Secure`)
    let cases = [
        (vec![], false),
        (vec![("Host", "localhost")], false),
        (vec![("Host", v4.as_str())], false),
        (vec![("Host", v6.as_str())], false),
        (vec![("Host", "gw.example")], true),
        (
            vec![("Host", "localhost"), ("X-Forwarded-Proto", "https")],
            true,
        ),
    ];
    for (headers, is_secure) in cases {
        let page = warden.form_page(LOGIN, &headers);
        let want = if is_secure { &secure[..] } else { &base[..] };
        set_cookie(&page.response, CSRF).assert_attributes(want);
    }
}

#[test]
fn a_post_without_the_matching_csrf_pair_is_an_expired_form() {
    let warden = server();
    let page = warden.form_page(LOGIN, &[]);
    let fields = alice("/private/x");
    // No cookie at all.
    let mut with_csrf = vec![("csrf", page.csrf.as_str())];
    with_csrf.extend_from_slice(&fields);
    let r = warden.post_form(LOGIN, &[], &with_csrf);
    assert_form_expired(&r, "no cookie");
    // Another token in the cookie.
    let other = warden.form_page(LOGIN, &[]).csrf;
    let cookie = format!("{CSRF}={other}");
    let r = warden.post_form(LOGIN, &[("Cookie", &cookie)], &with_csrf);
    assert_form_expired(&r, "cookie and field differ");
    // A cookie but no field.
    let cookie = format!("{CSRF}={}", page.csrf);
    let r = warden.post_form(LOGIN, &[("Cookie", &cookie)], &fields);
    assert_form_expired(&r, "no field");
    // Both empty.
    let r = warden.post_login("", "", &[], &fields);
    assert_form_expired(&r, "empty token");
    // The pair itself works.
    let r = warden.post_login(&page.csrf, "", &[], &fields);
    assert_eq!(r.status, 303, "{r:#?}");
}

#[test]
fn a_post_from_another_origin_is_an_expired_form() {
    let warden = server();
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    for origin in [
        "http://evil.example",
        "https://localhost",
        "http://localhost:8080",
        "http://localhost.evil.example",
    ] {
        let r = warden.post_login(&csrf, "", &[("Origin", origin)], &alice("/"));
        assert_form_expired(&r, origin);
    }
    let r = warden.post_login(&csrf, "", &[("Origin", "http://localhost")], &alice("/"));
    assert_eq!(r.status, 303, "same origin: {r:#?}");
    let host = format!("127.0.0.1:{}", warden.addr.port());
    let origin = format!("http://{host}");
    let r = warden.post_login(
        &csrf,
        "",
        &[("Host", &host), ("Origin", &origin)],
        &alice("/"),
    );
    assert_eq!(r.status, 303, "same origin with port: {r:#?}");
}

/// `Origin: null` (a sandboxed frame, a `data:` page) is an `Origin` header that is not this
/// site's: the form is refused like any other foreign origin.
#[test]
fn a_post_from_an_opaque_origin_is_an_expired_form() {
    let warden = server();
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    let r = warden.post_login(&csrf, "", &[("Origin", "null")], &alice("/"));
    assert_form_expired(&r, "Origin: null");
}

/// Behind a trusted proxy that says https, the page's origin is `https://host`.
#[test]
fn over_https_the_origin_must_be_https() {
    let warden = server();
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    let https = [("Host", "gw.example"), ("X-Forwarded-Proto", "https")];
    let with = |origin| [&https[..], &[("Origin", origin)]].concat();
    let r = warden.post_login(&csrf, "", &with("http://gw.example"), &alice("/"));
    assert_form_expired(&r, "http origin over https");
    let r = warden.post_login(&csrf, "", &with("https://gw.example"), &alice("/"));
    assert_eq!(r.status, 303, "{r:#?}");
}

#[test]
fn every_failed_sign_in_gets_the_same_form_again() {
    let warden = server();
    let attempts = [
        ("wrong password", "alice", "nope"),
        ("unknown user", "zed", "alice-pw"),
        ("disabled user", "dora", "dora-pw"),
        ("empty password", "alice", ""),
    ];
    let mut answers = Vec::new();
    for (what, user, password) in attempts {
        let csrf = warden.form_page(LOGIN, &[]).csrf;
        let fields = [
            ("rd", "/private/x"),
            ("username", user),
            ("password", password),
        ];
        let r = warden.post_login(&csrf, "", &[], &fields);
        assert_eq!(r.status, 200, "{what}: {r:#?}");
        assert_page_headers(&r);
        assert!(r.body.contains(WRONG), "{what}: {}", r.body);
        assert_no_session(&r);
        // The form can be sent again: a new CSRF pair, the return address kept.
        let token = set_cookie(&r, CSRF).value;
        assert_eq!(form_value(&r.body, "csrf"), Some(token.clone()), "{what}");
        assert_eq!(form_value(&r.body, "rd").as_deref(), Some("/private/x"));
        let body = r.body.replace(&token, "<csrf>");
        let mut headers = stable_headers(&r);
        headers.retain(|(n, _)| n != "set-cookie");
        answers.push((what, body, headers));
    }
    let (first, body, headers) = &answers[0];
    for (what, b, h) in &answers[1..] {
        assert_eq!(b, body, "body: {what} vs {first}");
        assert_eq!(h, headers, "headers: {what} vs {first}");
    }
}

#[test]
fn the_right_password_opens_a_session() {
    let warden = server();
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    let r = warden.post_login(&csrf, "", &[], &alice("/private/doc?x=1"));
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.all("location"), ["/private/doc?x=1"]);
    let session = set_cookie(&r, SESSION);
    assert!(session.value.starts_with("wds_"), "{session:?}");
    assert!(session.value.len() > 30, "a long random token: {session:?}");
    session.assert_attributes(&["Path=/", "Max-Age=7200", "HttpOnly", "SameSite=Lax"]);
    let marker = set_cookie(&r, MARKER);
    assert_eq!(marker.value, "1");
    marker.assert_attributes(&["Path=/", "Max-Age=60", "HttpOnly", "SameSite=Lax"]);
    assert!(!sets_cookie(&r, SESSION_HOST));

    let cookie = session_cookie(&session.value);
    let r = warden.get("/private/doc?x=1", &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
}

#[test]
fn off_loopback_the_session_cookie_is_secure() {
    let warden = server();
    let host = [("Host", "gw.example")];
    let csrf = warden.form_page(LOGIN, &host).csrf;
    let r = warden.post_login(&csrf, "", &host, &alice("/"));
    assert_eq!(r.status, 303, "{r:#?}");
    set_cookie(&r, SESSION).assert_attributes(&[
        "Path=/",
        "Max-Age=7200",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
    ]);
    set_cookie(&r, MARKER).assert_attributes(&["Path=/", "Max-Age=60", "HttpOnly", "SameSite=Lax"]);
}

#[test]
fn over_https_the_session_cookie_is_host_prefixed() {
    let warden = server();
    let https = [("Host", "gw.example"), ("X-Forwarded-Proto", "https")];
    let csrf = warden.form_page(LOGIN, &https).csrf;
    let r = warden.post_login(&csrf, "", &https, &alice("/private/x"));
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.all("location"), ["/private/x"]);
    let session = set_cookie(&r, SESSION_HOST);
    assert!(session.value.starts_with("wds_"), "{session:?}");
    session.assert_attributes(&[
        "Path=/",
        "Max-Age=7200",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
    ]);
    assert!(!sets_cookie(&r, SESSION), "{r:#?}");
    assert_eq!(set_cookie(&r, MARKER).value, "1");

    let cookie = format!("{SESSION_HOST}={}", session.value);
    let r = warden.get("/private/x", &[&https[..], &[("Cookie", &cookie)]].concat());
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-method"), ["session"]);
}

/// No session fixation: a sign-in never adopts the cookie the browser had; a valid one is
/// ended (switching users), a planted one is ignored.
#[test]
fn every_sign_in_is_a_new_session_and_ends_the_one_the_browser_had() {
    let warden = server();
    let api = |token: &str| {
        let cookie = session_cookie(token);
        warden.get("/private/x", &[("Cookie", &cookie)]).status
    };
    let first = warden.sign_in("alice", "alice-pw");
    let elsewhere = warden.sign_in("alice", "alice-pw");
    assert_ne!(first, elsewhere);
    assert_eq!((api(&first), api(&elsewhere)), (200, 200), "two browsers");

    let r = warden.sign_in_with("alice", "alice-pw", &session_cookie(&first));
    assert_eq!(r.status, 303, "{r:#?}");
    let second = set_cookie(&r, SESSION).value;
    assert_ne!(second, first);
    assert_eq!(api(&first), 401, "the browser's old session is ended");
    assert_eq!(api(&second), 200);
    assert_eq!(api(&elsewhere), 200, "other browsers keep theirs");

    let planted = "wds_planted-by-an-attacker";
    let r = warden.sign_in_with("alice", "alice-pw", &session_cookie(planted));
    assert_eq!(r.status, 303, "{r:#?}");
    assert_ne!(set_cookie(&r, SESSION).value, planted);
    assert_eq!(api(planted), 401);
}

#[test]
fn unsafe_return_addresses_become_root() {
    let warden = server();
    for rd in [
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "https://app.example@evil.example/",
        "https://app.example.evil.example/",
        "http://app.example/",
        "data:text/html,<script>alert(1)</script>",
    ] {
        let query = format!("{LOGIN}?rd={}", url_encode(rd));
        let page = warden.form_page(&query, &[]);
        assert_eq!(
            form_value(&page.response.body, "rd").as_deref(),
            Some("/"),
            "page for {rd:?}"
        );
        let r = warden.post_login(&page.csrf, "", &[], &alice(rd));
        assert_eq!(r.status, 303, "{rd:?}: {r:#?}");
        assert_eq!(r.all("location"), ["/"], "{rd:?}");
    }
}

#[test]
fn same_origin_and_listed_return_addresses_are_kept() {
    let warden = server();
    for rd in [
        "/private/x?y=1&z=%2F",
        "/",
        "https://app.example/after?x=1",
        "http://localhost/own/origin",
    ] {
        let query = format!("{LOGIN}?rd={}", url_encode(rd));
        let page = warden.form_page(&query, &[]);
        assert_eq!(form_value(&page.response.body, "rd").as_deref(), Some(rd));
        let r = warden.post_login(&page.csrf, "", &[], &alice(rd));
        assert_eq!(r.status, 303, "{rd:?}: {r:#?}");
        assert_eq!(r.all("location"), [rd]);
    }
}

/// A browser that is already signed in skips the form (unless it asks to switch).
#[test]
fn a_signed_in_browser_is_sent_straight_on() {
    let warden = server();
    let cookie = session_cookie(&warden.sign_in("alice", "alice-pw"));
    for (query, want) in [
        ("?rd=%2Fprivate%2Fx%3Fy%3D1", "/private/x?y=1"),
        ("?rd=%2F%2Fevil.example", "/"),
        (
            "?rd=https%3A%2F%2Fapp.example%2Fhome",
            "https://app.example/home",
        ),
        ("", "/"),
    ] {
        let r = warden.get(&format!("{LOGIN}{query}"), &[("Cookie", &cookie)]);
        assert_eq!(r.status, 303, "{query}: {r:#?}");
        assert_eq!(r.all("location"), [want], "{query}");
        assert_no_session(&r);
    }
}
