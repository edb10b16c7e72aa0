//! What happens to a session opened at a provider: back-channel logout ends it at once,
//! `/.warden/logout` also signs out at the provider, a refresh extends it, a refused refresh
//! ends it, and a provider that is down answers 503 (the session stays) until it is back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oidc_cases;

use std::time::Duration;

use common::browser::{SESSION, form_value, set_cookie};
use common::op::{Fault, OpAgent};
use common::{BROWSER_ACCEPT, Response, poll_until};
use oidc_cases::{Options, Setup, param};
use serde_json::json;

/// A signed-in agent: alice, at `/private/x`.
fn signed_in(setup: &Setup) -> OpAgent {
    signed_in_with_token(setup).0
}

/// The agent and its session cookie's value.
fn signed_in_with_token(setup: &Setup) -> (OpAgent, String) {
    let mut agent = OpAgent::new();
    let r = setup.sign_in(&mut agent, "/private/x", "alice");
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(agent.get(&setup.url("/private/x")).status, 200);
    (agent, set_cookie(&r, SESSION).value)
}

/// A navigation carrying only the session cookie (no fresh-sign-in marker).
fn navigate(setup: &Setup, token: &str) -> Response {
    let cookie = format!("{SESSION}={token}");
    setup.warden.get(
        "/private/x",
        &[("Cookie", &cookie), ("Accept", BROWSER_ACCEPT)],
    )
}

/// The session has ended: a plain navigation goes to sign in; the browser that signed in
/// under a minute ago gets the 401 page that says so (with its challenge) instead of a
/// redirect that could loop.
fn assert_ended(setup: &Setup, agent: &mut OpAgent, token: &str) {
    let r = navigate(setup, token);
    assert_eq!(r.status, 302, "{r:#?}");
    assert!(
        r.header("location")
            .unwrap()
            .starts_with("/.warden/login?rd="),
        "{r:#?}"
    );
    let r = agent.get(&setup.url("/private/x"));
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(
        r.all("www-authenticate"),
        [oidc_cases::COOKIE_CHALLENGE],
        "{r:#?}"
    );
    assert!(r.body.contains("Your session has ended"), "{}", r.body);
}

/// A provider whose access tokens live `seconds`, so warden refreshes that often.
fn short_tokens(seconds: u64) -> Options {
    let mut options = Options::default();
    options.op["ttl"] = json!({"AccessToken": seconds});
    options
}

#[test]
fn a_back_channel_logout_ends_the_session_at_once() {
    let setup = Setup::start(Options::default());
    let (mut agent, token) = signed_in_with_token(&setup);
    let sent = setup.op.backchannel_logout("alice");
    assert_eq!(
        sent["sent"][0]["ok"], true,
        "the provider delivered the logout token: {sent}"
    );
    // At once: the revocation also drops the half-second success cache.
    assert_ended(&setup, &mut agent, &token);
}

#[test]
fn a_forged_logout_token_ends_nothing() {
    let setup = Setup::start(Options::default());
    let mut agent = signed_in(&setup);
    let forged = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.";
    for body in [format!("logout_token={forged}"), "nothing=here".to_owned()] {
        let r = setup.warden.send_with_body(
            "POST",
            "/.warden/oidc/backchannel",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 400, "{body}: {r:#?}");
        assert_eq!(r.all("cache-control"), ["no-store"]);
        assert_eq!(r.json()["error"], "invalid_request", "{r:#?}");
    }
    assert_eq!(
        agent.get(&setup.url("/private/x")).status,
        200,
        "still signed in"
    );
}

#[test]
fn signing_out_also_signs_out_at_the_provider() {
    let setup = Setup::start(Options::default());
    let mut agent = signed_in(&setup);
    let page = agent.get(&setup.url("/.warden/logout"));
    assert_eq!(page.status, 200, "{page:#?}");
    // CSP form-action also governs the redirect after the POST: the provider is allowed.
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {}", setup.op.issuer())),
        "{csp}"
    );
    let csrf = form_value(&page.body, "csrf").unwrap();
    let r = agent.post(&setup.url("/.warden/logout"), &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(
        set_cookie(&r, SESSION).value,
        "",
        "the session cookie is cleared"
    );
    let location = r.header("location").unwrap().to_owned();
    let end_session = setup.op.discovery()["end_session_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(&end_session), "{location}");
    assert_eq!(param(&location, "client_id"), "warden");
    assert_eq!(
        param(&location, "post_logout_redirect_uri"),
        setup.url("/.warden/login")
    );
    assert!(
        param(&location, "id_token_hint").split('.').count() == 3,
        "{location}"
    );
    let back = agent.end_session(&location, true);
    assert!(
        back.starts_with(&setup.url("/.warden/login")),
        "the provider sends the browser back: {back}"
    );
    assert_eq!(
        agent.get(&setup.url("/private/x")).status,
        302,
        "signed out here"
    );
}

#[test]
fn a_due_session_is_refreshed_and_a_refused_refresh_ends_it() {
    let setup = Setup::start(short_tokens(5));
    let (mut agent, token) = signed_in_with_token(&setup);
    let tokens = setup.op.count("token");
    std::thread::sleep(Duration::from_secs(6));
    let r = agent.get(&setup.url("/private/x"));
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(
        setup.op.count("token"),
        tokens + 1,
        "one refresh at the token endpoint"
    );
    // Requests right after the refresh need no other.
    assert_eq!(agent.get(&setup.url("/private/x")).status, 200);
    assert_eq!(setup.op.count("token"), tokens + 1);
    assert!(setup.op.revoke_grants("alice") >= 1);
    std::thread::sleep(Duration::from_secs(6));
    // The provider refused the refresh: sign in again.
    assert_ended(&setup, &mut agent, &token);
}

#[test]
fn a_provider_down_at_refresh_is_503_and_the_session_survives() {
    let setup = Setup::start(short_tokens(5));
    let mut agent = signed_in(&setup);
    setup.op.fault("/token", Fault::Status500);
    std::thread::sleep(Duration::from_secs(6));
    let r = agent.get(&setup.url("/private/x"));
    assert_eq!(r.status, 503, "not judged: {r:#?}");
    assert!(r.header("retry-after").is_some(), "{r:#?}");
    assert!(
        r.all("set-cookie").is_empty(),
        "no cookie is cleared: {r:#?}"
    );
    // Past the half-second cache, still down: judged again (the turn was given back), 503 again.
    std::thread::sleep(Duration::from_millis(600));
    let r = agent.get(&setup.url("/private/x"));
    assert_eq!(r.status, 503, "still not judged: {r:#?}");
    setup.op.fault("/token", Fault::Off);
    let r = poll_until(Duration::from_secs(5), "recovery", || {
        let r = agent.get(&setup.url("/private/x"));
        (r.status == 200).then_some(r)
    });
    assert_eq!(r.header("x-auth-subject"), Some("alice"));
}

#[test]
fn a_provider_down_at_sign_in_is_a_503_page_then_works_again() {
    let mut setup = Setup::start(Options::default());
    setup.op.stop();
    let mut agent = OpAgent::new();
    let r = agent.get(&setup.url("/.warden/login?rd=%2Fprivate%2Fx"));
    assert_eq!(r.status, 503, "{r:#?}");
    assert!(r.header("retry-after").is_some(), "{r:#?}");
    assert!(r.body.contains("Test OP is unavailable"), "{}", r.body);
    setup.op.restart();
    let r = poll_until(Duration::from_secs(5), "the provider is back", || {
        let r = agent.get(&setup.url("/.warden/login?rd=%2Fprivate%2Fx"));
        (r.status == 302).then_some(r)
    });
    assert!(
        r.header("location").unwrap().starts_with(setup.op.issuer()),
        "{r:#?}"
    );
}
