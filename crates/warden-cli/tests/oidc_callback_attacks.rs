//! Callbacks that do not belong to a sign-in in progress: a state this browser did not start,
//! a replay, a code from another sign-in, a wrong RFC 9207 `iss`, a provider's error answer.
//! Each is a page (400, or 403 for a refusal), never a session and never a redirect loop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oidc_cases;

use common::browser::{MARKER, SESSION, sets_cookie};
use common::op::OpAgent;
use common::{HTML, Response, url_encode};
use oidc_cases::{Options, Setup, param};

/// A sign-in page refusing the callback: status, HTML, no session, no redirect.
fn assert_refused(r: &Response, status: u16, words: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {r:#?}");
    assert_eq!(r.header("content-type"), Some(HTML), "{what}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{what}");
    assert_eq!(r.header("location"), None, "{what}: a page, not a loop");
    assert!(
        !sets_cookie(r, SESSION) && !sets_cookie(r, MARKER),
        "{what}: no session: {r:#?}"
    );
    assert!(r.body.contains(words), "{what}: {}", r.body);
    assert!(
        r.body.contains("/.warden/login"),
        "{what}: offers to start again: {}",
        r.body
    );
}

/// The callback URL of a finished provider sign-in, with the agent holding its state cookie.
fn finished(setup: &Setup, agent: &mut OpAgent) -> String {
    let authorize = setup.authorize_url(agent, "/private/x");
    agent.sign_in(&authorize, "alice", "any", None)
}

/// `url` with parameter `name` set to `value` (replaced or added).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("{name}={}", url_encode(value)));
    format!("{base}?{}", pairs.join("&"))
}

#[test]
fn a_callback_for_another_browser_is_refused() {
    let setup = Setup::start(Options::default());
    let mut victim = OpAgent::new();
    let callback = finished(&setup, &mut victim);
    // The attacker's browser never started this sign-in: no state cookie.
    let mut attacker = OpAgent::new();
    let r = attacker.get(&callback);
    assert_refused(&r, 400, "not started in this browser", "no state cookie");
    // A state the browser's cookie does not hold.
    let forged = with_param(&callback, "state", "forged-state-value");
    let r = victim.get(&forged);
    assert_refused(&r, 400, "not started in this browser", "state mismatch");
}

#[test]
fn a_callback_works_once() {
    let setup = Setup::start(Options::default());
    let mut agent = OpAgent::new();
    let callback = finished(&setup, &mut agent);
    // Keep the state cookie to replay with, as an attacker holding the browser would.
    let state = param(&callback, "state");
    let first = agent.get(&callback);
    assert_eq!(first.status, 303, "{first:#?}");
    let cookie = format!("warden_oidc={state}");
    let r = setup.warden.get(
        callback.trim_start_matches(&setup.base),
        &[("Cookie", cookie.as_str()), ("Accept", "text/html")],
    );
    assert_refused(&r, 400, "expired or was already used", "replayed callback");
}

#[test]
fn a_code_from_another_sign_in_is_refused() {
    let setup = Setup::start(Options::default());
    // Someone else's unused code, under this browser's own state and PKCE verifier.
    let mut victim = OpAgent::new();
    let stolen = param(&finished(&setup, &mut victim), "code");
    let mut attacker = OpAgent::new();
    let own = finished(&setup, &mut attacker);
    let r = attacker.get(&with_param(&own, "code", &stolen));
    assert_refused(&r, 400, "refused this sign-in code", "someone else's code");
    // A code already redeemed by its own sign-in.
    let mut first = OpAgent::new();
    let used = finished(&setup, &mut first);
    assert_eq!(first.get(&used).status, 303);
    let mut second = OpAgent::new();
    let fresh = finished(&setup, &mut second);
    let r = second.get(&with_param(&fresh, "code", &param(&used, "code")));
    assert_refused(&r, 400, "refused this sign-in code", "a used code");
}

#[test]
fn a_wrong_or_missing_iss_is_a_mix_up() {
    let setup = Setup::start(Options::default());
    for (what, edit) in [
        ("wrong iss", Some("https://evil.example")),
        ("no iss from a provider that sends one", None),
    ] {
        let mut agent = OpAgent::new();
        let callback = finished(&setup, &mut agent);
        let url = match edit {
            Some(iss) => with_param(&callback, "iss", iss),
            None => {
                let (base, query) = callback.split_once('?').unwrap();
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.starts_with("iss="))
                    .collect();
                format!("{base}?{}", kept.join("&"))
            }
        };
        let r = agent.get(&url);
        assert_refused(&r, 400, "does not match this sign-in", what);
    }
}

#[test]
fn the_provider_saying_no_is_a_page_with_a_way_back() {
    let setup = Setup::start(Options::default());
    let mut agent = OpAgent::new();
    let authorize = setup.authorize_url(&mut agent, "/private/x");
    let state = param(&authorize, "state");
    let iss = url_encode(setup.op.issuer());
    let denied = setup.url(&format!(
        "/.warden/oidc/callback?error=access_denied&state={state}&iss={iss}"
    ));
    let r = agent.get(&denied);
    assert_refused(&r, 403, "access was denied", "access_denied");
    assert!(
        r.body.contains("rd=%2Fprivate%2Fx"),
        "try again keeps the address: {}",
        r.body
    );
    // The state is spent: the same answer again is a replay.
    let r = agent.get(&denied);
    assert_refused(&r, 400, "not started in this browser", "after the refusal");
}
