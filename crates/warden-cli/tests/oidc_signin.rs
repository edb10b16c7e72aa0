//! Sign-in through a real OpenID Provider (`oidc-provider`): the code flow with PKCE, state,
//! nonce and RFC 9207 `iss`; the session it opens; roles from the `groups` claim; two
//! providers on one sign-in page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oidc_cases;

use common::browser::{SESSION, set_cookie};
use std::time::Duration;

use common::op::OpAgent;
use common::poll_until;
use oidc_cases::{Options, Setup, param};

#[test]
fn a_navigation_signs_in_at_the_provider_and_lands_where_it_was_going() {
    let setup = Setup::start(Options::default());
    let mut agent = OpAgent::new();
    let authorize = setup.authorize_url(&mut agent, "/private/doc?x=1");
    // The authorization request: code flow, PKCE S256, state, nonce, our callback.
    assert_eq!(param(&authorize, "response_type"), "code");
    assert_eq!(param(&authorize, "client_id"), "warden");
    assert_eq!(
        param(&authorize, "redirect_uri"),
        setup.url("/.warden/oidc/callback")
    );
    assert_eq!(param(&authorize, "code_challenge_method"), "S256");
    assert_eq!(param(&authorize, "code_challenge").len(), 43);
    assert_eq!(param(&authorize, "scope"), "openid email groups");
    assert!(param(&authorize, "state").len() >= 43);
    assert!(param(&authorize, "nonce").len() >= 43);
    let callback = agent.sign_in(&authorize, "alice", "any", None);
    assert_eq!(
        param(&callback, "iss"),
        setup.op.issuer(),
        "RFC 9207 iss: {callback}"
    );
    let r = agent.get(&callback);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(r.header("location"), Some("/private/doc?x=1"));
    let session = set_cookie(&r, SESSION);
    assert!(session.value.starts_with("wdf_"), "{session:?}");
    session.assert_attributes(&["Path=/", "Max-Age=43200", "HttpOnly", "SameSite=Lax"]);
    let page = agent.get(&setup.url("/private/doc?x=1"));
    assert_eq!(page.status, 200, "{page:#?}");
    assert_eq!(page.header("x-auth-subject"), Some("alice"));
    assert_eq!(page.header("x-auth-roles"), Some("admin,ops"));
    assert_eq!(page.header("x-auth-method"), Some("oidc"));
    // The CLI lists it, naming the provider, and can end it.
    let out = setup.warden.env.cli(&["session", "list"], None).ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains("alice (op)"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let id = row.split_whitespace().next().unwrap();
    setup.warden.env.cli(&["session", "revoke", id], None).ok();
    // Seen within a second (the half-second cache), as for password sessions.
    poll_until(Duration::from_secs(1), "the CLI's revoke", || {
        (agent.get(&setup.url("/private/doc?x=1")).status == 401).then_some(())
    });
}

#[test]
fn roles_come_from_the_groups_claim() {
    let setup = Setup::start(Options::default());
    let mut bob = OpAgent::new();
    let r = setup.sign_in(&mut bob, "/admin/panel", "bob");
    assert_eq!(r.status, 303, "{r:#?}");
    let page = bob.get(&setup.url("/admin/panel"));
    assert_eq!(page.status, 403, "bob has ops, not admin: {page:#?}");
    assert!(
        page.body.contains("bob"),
        "the 403 page says who is signed in: {}",
        page.body
    );
    let mut alice = OpAgent::new();
    setup.sign_in(&mut alice, "/admin/panel", "alice");
    let page = alice.get(&setup.url("/admin/panel"));
    assert_eq!(page.status, 200, "{page:#?}");
}

#[test]
fn two_providers_and_passwords_share_one_sign_in_page() {
    let setup = Setup::start(Options {
        password: true,
        second: true,
        ..Options::default()
    });
    let mut agent = OpAgent::new();
    let page = agent.get(&setup.url("/.warden/login?rd=%2Fprivate%2Fx"));
    assert_eq!(
        page.status, 200,
        "several ways in: a page, not a redirect: {page:#?}"
    );
    let buttons = [
        (
            "Sign in with Test OP",
            "/.warden/oidc/start?provider=op&amp;rd=%2Fprivate%2Fx",
        ),
        (
            "Sign in with Second OP",
            "/.warden/oidc/start?provider=second&amp;rd=%2Fprivate%2Fx",
        ),
    ];
    for (label, href) in buttons {
        assert!(page.body.contains(label), "{label}: {}", page.body);
        assert!(
            page.body.contains(&format!("href=\"{href}\"")),
            "{href}: {}",
            page.body
        );
    }
    assert!(
        page.body.contains("name=\"password\""),
        "the password form too: {}",
        page.body
    );
    // The second provider's button leads through that provider, to a session.
    let start = agent.get(&setup.url("/.warden/oidc/start?provider=second&rd=%2Fprivate%2Fx"));
    assert_eq!(start.status, 302, "{start:#?}");
    let authorize = start.header("location").unwrap().to_owned();
    let second = setup.second.as_ref().unwrap();
    assert!(authorize.starts_with(second.issuer()), "{authorize}");
    let callback = agent.sign_in(&authorize, "bob", "any", None);
    assert_eq!(param(&callback, "iss"), second.issuer());
    let r = agent.get(&callback);
    assert_eq!(r.status, 303, "{r:#?}");
    let page = agent.get(&setup.url("/private/x"));
    assert_eq!(page.status, 200, "{page:#?}");
    assert_eq!(page.header("x-auth-subject"), Some("bob"));
    // An unknown provider name is a page, not a redirect.
    let r = agent.get(&setup.url("/.warden/oidc/start?provider=nope&rd=%2F"));
    assert_eq!(r.status, 404, "{r:#?}");
    assert_eq!(r.header("location"), None);
}

#[test]
fn an_api_client_gets_a_401_with_a_challenge_never_a_redirect() {
    let setup = Setup::start(Options::default());
    let r = setup
        .warden
        .get("/private/x", &[("Accept", "application/json")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.header("location"), None);
    assert_eq!(
        r.all("www-authenticate"),
        [oidc_cases::COOKIE_CHALLENGE],
        "{r:#?}"
    );
    assert_eq!(r.header("content-type"), Some(common::PROBLEM));
    assert_eq!(r.all("cache-control"), ["no-store"]);
    assert_eq!(r.json()["status"], 401);
}

#[test]
fn config_check_refuses_a_provider_whose_secret_cannot_be_read() {
    let providers = oidc_cases::provider_block("corp", "Corp", "https://idp.example", "nope.txt");
    let env = common::Env::new(&oidc_cases::config(0, &providers, false));
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(
        out.stderr
            .contains("`authn.oidc` `corp`: cannot read the client secret: `"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("nope.txt"), "{out:#?}");
    std::fs::write(env.dir.path.join("nope.txt"), "s3cret-value\n").unwrap();
    let out = env.cli(&["config", "check"], None).ok();
    assert!(out.stdout.contains(": ok (4 rules)"), "{out:#?}");
    assert!(!out.stdout.contains("s3cret-value") && !out.stderr.contains("s3cret-value"));
}

#[test]
fn a_foreign_return_address_survives_no_trip_through_the_provider() {
    let setup = Setup::start(Options::default());
    for rd in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let mut agent = OpAgent::new();
        let start = format!(
            "/.warden/oidc/start?provider=op&rd={}",
            common::url_encode(rd)
        );
        let r = agent.get(&setup.url(&start));
        assert_eq!(r.status, 302, "{r:#?}");
        let authorize = r.header("location").unwrap().to_owned();
        let callback = agent.sign_in(&authorize, "alice", "any", None);
        let done = agent.get(&callback);
        assert_eq!(done.status, 303, "{done:#?}");
        assert_eq!(done.header("location"), Some("/"), "{rd}: {done:#?}");
    }
}
