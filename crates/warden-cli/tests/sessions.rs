//! Using a session: identity headers, a header beats the cookie, the "cookie not sent back"
//! page, the forbidden page with "sign in as someone else", switching users, logout, and
//! ending sessions from the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::browser::*;
use common::*;

const NAV: (&str, &str) = ("Accept", BROWSER_ACCEPT);
const JSON: (&str, &str) = ("Accept", "application/json");

/// alice (ops, dev) and bob (admin) on the standard config, edited by `edit`.
fn server_with(edit: impl Fn(String) -> String) -> Warden {
    let env = Env::new(&edit(standard_config()));
    env.add_user("alice", "alice-pw", &["ops", "dev"]);
    env.add_user("bob", "bob-pw", &["admin"]);
    env.serve()
}

fn server() -> Warden {
    server_with(|c| c)
}

/// The status of an API call to `/private/x` with this session token.
fn api(warden: &Warden, token: &str) -> u16 {
    let cookie = session_cookie(token);
    warden
        .get("/private/x", &[JSON, ("Cookie", &cookie)])
        .status
}

/// A change made by the CLI reaches a running server within a second (remembered session
/// successes last 500 ms; without Redis nothing tells the server sooner).
fn assert_ended_within_a_second(warden: &Warden, token: &str) {
    poll_until(Duration::from_secs(1), "the session to end", || {
        (api(warden, token) == 401).then_some(())
    });
    assert_ended(warden, token);
}

fn assert_ended(warden: &Warden, token: &str) {
    let cookie = session_cookie(token);
    let r = warden.get("/private/x", &[JSON, ("Cookie", &cookie)]);
    assert_eq!(r.status, 401, "an ended session: {r:#?}");
    assert_eq!(r.challenges().len(), 2, "{r:#?}");
    assert_eq!(r.header("location"), None);
    let r = warden.get("/private/x", &[NAV, ("Cookie", &cookie)]);
    assert_eq!(r.status, 302, "an ended session navigating: {r:#?}");
    assert_eq!(r.all("location"), ["/.warden/login?rd=%2Fprivate%2Fx"]);
    assert!(r.challenges().is_empty());
}

#[test]
fn a_session_carries_the_users_identity() {
    let warden = server();
    let cookie = session_cookie(&warden.sign_in("alice", "alice-pw"));
    for headers in [
        vec![("Cookie", cookie.as_str())],
        vec![NAV, ("Cookie", cookie.as_str())],
        vec![JSON, ("Cookie", cookie.as_str())],
    ] {
        let r = warden.get("/private/x?y=1", &headers);
        assert_eq!(r.status, 200, "{headers:?}: {r:#?}");
        assert_eq!(r.all("x-auth-subject"), ["alice"]);
        assert_eq!(r.all("x-auth-method"), ["session"]);
        assert_eq!(r.all("x-auth-roles"), ["ops,dev"]);
        assert_eq!(r.all("x-auth-scopes"), [""]);
    }
    // Among other cookies, on its own line or not.
    let r = warden.get(
        "/private/x",
        &[
            ("Cookie", "theme=dark"),
            ("Cookie", &format!("a=1; {cookie}; b=2")),
        ],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
}

/// When an `Authorization` header is present, the session cookie is ignored.
#[test]
fn an_authorization_header_beats_the_cookie() {
    let warden = server();
    let cookie = session_cookie(&warden.sign_in("alice", "alice-pw"));
    let r = warden.get(
        "/private/x",
        &[("Authorization", "Bearer abc.def.ghi"), ("Cookie", &cookie)],
    );
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER_INVALID, BASIC]);
    assert_eq!(r.code(), "invalid_token");

    let bob = basic("bob", "bob-pw");
    let r = warden.get("/admin/x", &[("Authorization", &bob), ("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["bob"]);
    assert_eq!(r.all("x-auth-method"), ["basic"]);
}

/// The contract table: an unknown or revoked session is `invalid_token`.
#[test]
fn an_unknown_or_revoked_session_is_an_invalid_token() {
    let warden = server();
    let token = warden.sign_in("alice", "alice-pw");
    warden
        .cli(&["session", "revoke", "--user", "alice"], None)
        .ok();
    for token in [token.as_str(), "wds_never-issued"] {
        let cookie = session_cookie(token);
        let r = warden.get("/private/x", &[JSON, ("Cookie", &cookie)]);
        assert_eq!(r.status, 401, "{r:#?}");
        assert_eq!(r.challenges().len(), 2, "{r:#?}");
        assert!(
            r.challenges()[0].starts_with(
                r#"Bearer realm="example", error="invalid_token", error_description=""#
            ),
            "{:?}",
            r.challenges()
        );
        assert_eq!(r.challenges()[1], BASIC);
    }
}

/// Right after a sign-in, a navigation without the session is explained, not sent round the
/// login loop again.
#[test]
fn a_browser_that_did_not_send_the_session_back_is_told_so() {
    let warden = server();
    let r = warden.get("/private/x", &[NAV, ("Cookie", "warden_signed_in=1")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("location"), None, "no redirect: that would loop");
    assert_eq!(r.challenges(), [BEARER, BASIC]);
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.all("cache-control"), ["no-store"]);
    assert!(
        r.body.contains("did not send the session cookie back"),
        "{}",
        r.body
    );
    // With the session it works; without the marker it is the usual redirect.
    let cookie = format!(
        "warden_signed_in=1; {}",
        session_cookie(&warden.sign_in("alice", "alice-pw"))
    );
    let r = warden.get("/private/x", &[NAV, ("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "{r:#?}");
    let r = warden.get("/private/x", &[NAV]);
    assert_eq!(r.status, 302, "{r:#?}");
}

#[test]
fn the_forbidden_page_names_the_user_and_offers_a_switch() {
    let warden = server();
    let cookie = session_cookie(&warden.sign_in("alice", "alice-pw"));
    let r = warden.get("/admin/x?y=1", &[NAV, ("Cookie", &cookie)]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert!(r.challenges().is_empty(), "{r:#?}");
    assert_eq!(r.header("location"), None);
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.all("cache-control"), ["no-store"]);
    assert!(
        r.body
            .contains("You are signed in as <strong>alice</strong>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("href=\"/.warden/login?switch=1&amp;rd=%2Fadmin%2Fx%3Fy%3D1\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("Sign in as someone else"), "{}", r.body);
    assert!(
        !r.body.contains("This needs one of these roles"),
        "{}",
        r.body
    );
    assert!(r.body.contains(&r.decision()), "{}", r.body);
    // API clients get the problem document, no page.
    let r = warden.get("/admin/x", &[JSON, ("Cookie", &cookie)]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.code(), "forbidden");
}

#[test]
fn show_required_names_the_missing_roles() {
    let warden = server_with(|c| {
        replace(
            &c,
            "require = { roles = [\"admin\"] }\n",
            "require = { roles = [\"admin\"] }\nshow_required = true\n",
        )
    });
    let cookie = session_cookie(&warden.sign_in("alice", "alice-pw"));
    let r = warden.get("/admin/x", &[NAV, ("Cookie", &cookie)]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert!(
        r.body.contains("This needs one of these roles: admin."),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("You are signed in as <strong>alice</strong>"),
        "{}",
        r.body
    );
}

#[test]
fn signing_in_as_someone_else_replaces_the_session() {
    let warden = server();
    let alice = warden.sign_in("alice", "alice-pw");
    let cookie = session_cookie(&alice);
    let page = warden.form_page(
        "/.warden/login?switch=1&rd=/admin/x",
        &[("Cookie", &cookie)],
    );
    let body = &page.response.body;
    assert!(body.contains("You are signed in as"), "{body}");
    assert!(body.contains("<strong>alice</strong>"), "{body}");
    assert_eq!(form_value(body, "rd").as_deref(), Some("/admin/x"));

    let fields = [
        ("rd", "/admin/x"),
        ("username", "bob"),
        ("password", "bob-pw"),
    ];
    let r = warden.post_login(&page.csrf, &cookie, &[], &fields);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.all("location"), ["/admin/x"]);
    let bob = set_cookie(&r, SESSION).value;
    assert_ne!(bob, alice);
    assert_ended(&warden, &alice);
    let bob_cookie = session_cookie(&bob);
    let r = warden.get("/admin/x", &[NAV, ("Cookie", &bob_cookie)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["bob"]);
    assert_eq!(r.all("x-auth-roles"), ["admin"]);
}

#[test]
fn logout_ends_the_session_and_clears_the_cookies() {
    let warden = server();
    let token = warden.sign_in("alice", "alice-pw");
    let cookie = session_cookie(&token);
    let page = warden.form_page(LOGOUT, &[("Cookie", &cookie)]);
    let r = &page.response;
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.all("cache-control"), ["no-store"]);
    assert!(r.body.contains("action=\"/.warden/logout\""), "{}", r.body);
    assert!(has_input(&r.body, "csrf", Some("hidden")), "{}", r.body);
    set_cookie(r, CSRF).assert_attributes(&[
        "Path=/.warden/",
        "Max-Age=3600",
        "HttpOnly",
        "SameSite=Strict",
    ]);

    let r = warden.post_with_csrf(LOGOUT, &page.csrf, &cookie, &[], &[]);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.all("location"), ["/.warden/login"]);
    for name in [SESSION, SESSION_HOST] {
        let c = set_cookie(&r, name);
        assert_eq!(c.value, "", "{c:?}");
        assert!(c.attributes.iter().any(|a| a == "Max-Age=0"), "{c:?}");
        assert!(c.attributes.iter().any(|a| a == "Path=/"), "{c:?}");
    }
    let host = set_cookie(&r, SESSION_HOST);
    assert!(
        host.attributes.iter().any(|a| a == "Secure"),
        "a __Host- cookie without Secure is dropped by browsers: {host:?}"
    );
    let marker = set_cookie(&r, MARKER);
    assert!(
        marker.attributes.iter().any(|a| a == "Max-Age=0"),
        "{marker:?}"
    );
    assert!(
        marker.attributes.iter().any(|a| a == "Path=/"),
        "{marker:?}"
    );
    assert_ended(&warden, &token);
}

#[test]
fn logout_without_csrf_is_refused() {
    let warden = server();
    let token = warden.sign_in("alice", "alice-pw");
    let cookie = session_cookie(&token);
    let r = warden.post_form(LOGOUT, &[("Cookie", &cookie)], &[]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert!(!sets_cookie(&r, SESSION), "{r:#?}");
    let stale = format!("{CSRF}=abc; {cookie}");
    let r = warden.post_form(LOGOUT, &[("Cookie", &stale)], &[("csrf", "xyz")]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(api(&warden, &token), 200, "still signed in");
}

/// `(id, user)` of every row of `warden session list`, after checking the header.
fn sessions(env: &Env) -> Vec<(String, String)> {
    let out = env.cli(&["session", "list"], None).ok();
    let mut lines = out.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "USER", "SIGNED", "IN", "LAST", "SEEN", "EXPIRES"],
        "{}",
        out.stdout
    );
    lines
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert!(cols.len() >= 3, "{l:?}");
            (cols[0].to_owned(), cols[1].to_owned())
        })
        .collect()
}

#[test]
fn the_cli_lists_and_ends_sessions() {
    let warden = server();
    assert!(sessions(&warden).is_empty());
    let first = warden.sign_in("alice", "alice-pw");
    let bob = warden.sign_in("bob", "bob-pw");
    let rows = sessions(&warden);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let id = rows
        .iter()
        .find(|(_, user)| user == "alice")
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no alice row: {rows:?}"));
    assert!(rows.iter().any(|(_, user)| user == "bob"), "{rows:?}");
    assert!(!first.contains(&id), "the id is not the token");

    warden.cli(&["session", "revoke", &id], None).ok();
    assert_ended_within_a_second(&warden, &first);
    assert_eq!(api(&warden, &bob), 200);
    let rows = sessions(&warden);
    assert!(rows.iter().all(|(i, _)| *i != id), "{rows:?}");

    let (a, b) = (
        warden.sign_in("alice", "alice-pw"),
        warden.sign_in("alice", "alice-pw"),
    );
    let out = warden
        .cli(&["session", "revoke", "--user", "alice"], None)
        .ok();
    assert!(out.stdout.contains("ended 2 session(s)"), "{out:#?}");
    assert_ended_within_a_second(&warden, &a);
    assert_ended_within_a_second(&warden, &b);
    assert_eq!(api(&warden, &bob), 200, "bob keeps his");
    let out = warden
        .cli(&["session", "revoke", "--user", "alice"], None)
        .ok();
    assert!(out.stdout.contains("ended 0 session(s)"), "{out:#?}");
}

#[test]
fn disabling_a_user_or_changing_the_password_ends_the_sessions() {
    let warden = server();
    let alice = warden.sign_in("alice", "alice-pw");
    let bob = warden.sign_in("bob", "bob-pw");
    warden.cli(&["user", "disable", "alice"], None).ok();
    assert_ended_within_a_second(&warden, &alice);
    assert_eq!(api(&warden, &bob), 200);
    // Re-enabling does not revive the old cookie.
    warden.cli(&["user", "enable", "alice"], None).ok();
    assert_eq!(api(&warden, &alice), 401);

    warden
        .cli(
            &["user", "passwd", "bob", "--password-stdin"],
            Some("new-bob\n"),
        )
        .ok();
    assert_ended_within_a_second(&warden, &bob);
    let again = warden.sign_in("bob", "new-bob");
    assert_eq!(api(&warden, &again), 200);
}
