//! Step-up (RFC 9470) through the provider: a session that is valid but too weak (`acr`) or
//! too old (`max_age`) sends the browser back through the provider with `acr_values`,
//! `max_age` and `prompt=login`, and the stronger sign-in opens the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oidc_cases;

use common::browser::{SESSION, set_cookie};
use common::op::OpAgent;
use common::{BROWSER_ACCEPT, Response};
use oidc_cases::{Options, Setup, absolute, param};

/// A navigation carrying only the session cookie (no fresh-sign-in marker).
fn navigate(setup: &Setup, token: &str, path: &str) -> Response {
    let cookie = format!("{SESSION}={token}");
    setup
        .warden
        .get(path, &[("Cookie", &cookie), ("Accept", BROWSER_ACCEPT)])
}

/// Signs in plainly at `/private/x`; returns the agent and its session token.
fn plain_sign_in(setup: &Setup) -> (OpAgent, String) {
    let mut agent = OpAgent::new();
    let r = setup.sign_in(&mut agent, "/private/x", "alice");
    assert_eq!(r.status, 303, "{r:#?}");
    (agent, set_cookie(&r, SESSION).value)
}

/// From a step-up redirect to the provider's authorization URL, with its parameters checked.
fn step_up(
    setup: &Setup,
    agent: &mut OpAgent,
    redirect: &Response,
    want: &[(&str, &str)],
) -> String {
    assert_eq!(redirect.status, 302, "{redirect:#?}");
    let login = absolute(&setup.base, redirect.header("location").unwrap());
    for (name, value) in want {
        assert_eq!(param(&login, name), *value, "{login}");
    }
    let r = agent.get(&login);
    assert_eq!(r.status, 302, "the only provider: straight there: {r:#?}");
    let authorize = r.header("location").unwrap().to_owned();
    for (name, value) in want.iter().filter(|(name, _)| *name != "rd") {
        assert_eq!(param(&authorize, name), *value, "{authorize}");
    }
    assert_eq!(param(&authorize, "prompt"), "login", "{authorize}");
    authorize
}

#[test]
fn a_weak_sign_in_steps_up_to_the_acr_the_rule_asks() {
    let setup = Setup::start(Options::default());
    let (mut agent, token) = plain_sign_in(&setup);
    let redirect = navigate(&setup, &token, "/strong/report");
    let authorize = step_up(
        &setup,
        &mut agent,
        &redirect,
        &[("rd", "/strong/report"), ("acr_values", "mfa")],
    );
    let callback = agent.sign_in(&authorize, "alice", "any", Some("mfa"));
    let r = agent.get(&callback);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.header("location"), Some("/strong/report"));
    let page = agent.get(&setup.url("/strong/report"));
    assert_eq!(page.status, 200, "{page:#?}");
    assert_eq!(page.header("x-auth-subject"), Some("alice"));
}

#[test]
fn a_sign_in_without_auth_time_steps_up_for_max_age() {
    let setup = Setup::start(Options::default());
    let (mut agent, token) = plain_sign_in(&setup);
    let redirect = navigate(&setup, &token, "/fresh/x");
    let authorize = step_up(
        &setup,
        &mut agent,
        &redirect,
        &[("rd", "/fresh/x"), ("max_age", "300")],
    );
    let callback = agent.sign_in(&authorize, "alice", "any", None);
    assert_eq!(agent.get(&callback).status, 303);
    let page = agent.get(&setup.url("/fresh/x"));
    assert_eq!(page.status, 200, "auth_time now within 300 s: {page:#?}");
}

#[test]
fn a_sign_in_that_is_still_too_weak_explains_instead_of_looping() {
    let setup = Setup::start(Options::default());
    let (mut agent, token) = plain_sign_in(&setup);
    let redirect = navigate(&setup, &token, "/strong/report");
    let authorize = step_up(&setup, &mut agent, &redirect, &[("acr_values", "mfa")]);
    // The provider signs in with a weaker method than asked.
    let callback = agent.sign_in(&authorize, "alice", "any", Some("pwd"));
    assert_eq!(agent.get(&callback).status, 303);
    let page = agent.get(&setup.url("/strong/report"));
    assert_eq!(
        page.status, 401,
        "right after a sign-in: a page, not another trip: {page:#?}"
    );
    assert_eq!(page.header("location"), None);
    assert!(page.header("www-authenticate").is_some(), "{page:#?}");
}
