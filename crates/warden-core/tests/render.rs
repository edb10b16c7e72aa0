#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Snapshots of rendered answers, so any header or body change shows up in review.

use std::path::Path;
use std::sync::Arc;

use warden_core::config::Config;
use warden_core::{
    AuthMethod, BodyKind, Decision, Deny, Flavour, Identity, Outcome, Rejection, RenderContext,
    TokenProblem, Verdict, render,
};

const CONFIG: &str = r#"
version = 1
[server]
listen = "127.0.0.1:4180"
realm = 'corp "main" \ realm'
[authn.jwt]
jwks_file = "k.json"
issuer = "i"
audience = "a"
[authn.basic]
[[rule]]
name = "admin"
path = "/admin/**"
require = { roles = ["admin"] }
"#;

fn show(outcome: &Outcome) -> String {
    let mut out = format!("{}\n", outcome.status);
    for (name, value) in &outcome.headers {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap()));
    }
    out.push('\n');
    out.push_str(&outcome.body);
    out
}

fn rendered(verdict: Verdict, kind: BodyKind, flavour: Flavour) -> String {
    let config = Config::parse(CONFIG, Path::new("/")).unwrap();
    let rule = Some(Arc::clone(&config.rules.rules()[0]));
    let decision = Decision { rule, verdict };
    let ctx = RenderContext {
        realm: &config.realm,
        identity_headers: &config.identity_headers,
        flavour,
        body_kind: kind,
        head: false,
        decision_id: "0000000100000000ab",
    };
    show(&render(&decision, &ctx))
}

fn alice() -> Identity {
    Identity {
        subject: "<alice & josé>".into(),
        roles: vec!["dev".into(), "ops".into()],
        scopes: vec!["read".into()],
        method: AuthMethod::Jwt,
    }
}

#[test]
fn unauthenticated_problem_json() {
    let text = rendered(
        Verdict::Deny(Deny::Unauthenticated),
        BodyKind::Problem,
        Flavour::Generic,
    );
    insta::assert_snapshot!(text);
}

#[test]
fn invalid_token_plain_text() {
    let why = Deny::Rejected(Rejection::InvalidToken(TokenProblem::Expired));
    insta::assert_snapshot!(rendered(
        Verdict::Deny(why),
        BodyKind::Plain,
        Flavour::Generic
    ));
}

#[test]
fn forbidden_html_names_the_user_escaped() {
    let why = Deny::MissingRole {
        identity: alice(),
        required: vec!["admin".into()],
    };
    insta::assert_snapshot!(rendered(
        Verdict::Deny(why),
        BodyKind::Html,
        Flavour::Generic
    ));
}

#[test]
fn nginx_flavour_maps_400_to_401_with_one_challenge_line() {
    let why = Deny::BadSending(warden_core::credentials::SendingError::Multiple);
    insta::assert_snapshot!(rendered(
        Verdict::Deny(why),
        BodyKind::Problem,
        Flavour::Nginx
    ));
}

#[test]
fn allow_carries_identity_headers() {
    insta::assert_snapshot!(rendered(
        Verdict::Allow(Some(alice())),
        BodyKind::Problem,
        Flavour::Generic
    ));
}
