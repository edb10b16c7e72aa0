//! `authn.jwt.jwks_url` hardening beyond `limits.rs` (stalls, huge documents, outages, last
//! good keys): redirects are never followed, and a token naming an unknown `kid` refetches
//! the document at most once per 30 s cooldown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::jwks::{JwksServer, Mode};
use common::tokens::{Signer, claims, mint, token};
use common::*;

fn url_config(url: &str) -> String {
    config_with_jwks(&format!(
        "jwks_url = \"{url}\"\ndangerous_allow_http_jwks_url = true\nrefresh_seconds = 300"
    ))
}

#[test]
fn a_redirecting_jwks_url_is_not_followed() {
    let target = JwksServer::start(Mode::Serve);
    let port: u16 = target
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let redirecting = JwksServer::start(Mode::RedirectTo(port));
    let warden = Env::new(&url_config(&redirecting.url)).serve();
    let r = warden.get(
        "/private/x",
        &[("Authorization", &bearer(&token("alice", &[], "")))],
    );
    assert_eq!(r.status, 503, "no keys: not judged: {r:#?}");
    assert!(r.header("retry-after").is_some(), "{r:#?}");
    assert!(r.challenges().is_empty(), "{r:#?}");
    assert!(redirecting.hits() >= 1, "the URL was asked");
    assert_eq!(target.hits(), 0, "the redirect's target was never fetched");
}

#[test]
fn an_unknown_kid_refetches_at_most_once_per_cooldown() {
    let jwks = JwksServer::start(Mode::Serve);
    let warden = Env::new(&url_config(&jwks.url)).serve();
    let good = bearer(&token("alice", &[], ""));
    assert_eq!(
        warden.get("/private/x", &[("Authorization", &good)]).status,
        200
    );
    let at_start = jwks.hits();
    let unknown = bearer(&mint(Signer::Other, &claims("mallory", &[], "")));
    let r = warden.get("/private/x", &[("Authorization", &unknown)]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER_INVALID, BASIC]);
    assert_eq!(
        jwks.hits(),
        at_start,
        "within 30 s of the start's fetch: no refetch"
    );
    std::thread::sleep(Duration::from_secs(31));
    for _ in 0..5 {
        let r = warden.get("/private/x", &[("Authorization", &unknown)]);
        assert_eq!(r.status, 401, "{r:#?}");
    }
    assert_eq!(
        jwks.hits(),
        at_start + 1,
        "past the cooldown: one refetch for five tokens"
    );
    assert_eq!(
        warden.get("/private/x", &[("Authorization", &good)]).status,
        200
    );
}
