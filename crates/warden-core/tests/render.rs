#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Snapshots of rendered answers, so any header or body change shows up in review.

use std::path::Path;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use warden_core::config::Config;
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Decision, Deny, Flavour, Identity, Outcome, Rejection, RenderContext, Shortfall,
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
show_required = true
cors = { origins = ["https://app.example"], credentials = true }
"#;

const HTML: &[(&str, &str)] = &[
    ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ("sec-fetch-mode", "navigate"),
];
const JSON: &[(&str, &str)] = &[("accept", "application/json")];
const TEXT: &[(&str, &str)] = &[("accept", "text/plain")];

fn show(outcome: &Outcome) -> String {
    let mut out = format!("{}\n", outcome.status);
    for (name, value) in &outcome.headers {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap()));
    }
    out.push('\n');
    out.push_str(&outcome.body);
    out
}

fn rendered_with(
    config: &str,
    verdict: Verdict,
    method: &str,
    headers: &[(&str, &str)],
    flavour: Flavour,
) -> String {
    let config = Config::parse(config, Path::new("/")).unwrap();
    let rule = Some(Arc::clone(&config.rules.rules()[0]));
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let uri: Uri = "/admin/users?page=2".parse().unwrap();
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let parts = RequestParts {
        method: &method,
        uri: &uri,
        headers: &map,
        peer: "192.0.2.1".parse().unwrap(),
        tls: false,
    };
    let facts = facts::read(parts, &config, ForwardSource::Forwarded);
    let ctx = RenderContext {
        config: &config,
        facts: &facts,
        flavour,
        decision_id: "0000000100000000ab",
    };
    show(&render(&Decision { rule, verdict }, &ctx))
}

fn rendered_for(
    verdict: Verdict,
    method: &str,
    headers: &[(&str, &str)],
    flavour: Flavour,
) -> String {
    rendered_with(CONFIG, verdict, method, headers, flavour)
}

fn rendered(verdict: Verdict, headers: &[(&str, &str)], flavour: Flavour) -> String {
    rendered_for(verdict, "GET", headers, flavour)
}

fn alice() -> Identity {
    Identity {
        subject: "<alice & josé>".into(),
        roles: vec!["dev".into(), "ops".into()],
        scopes: vec!["read".into()],
        method: AuthMethod::Session,
        acr: None,
        auth_time: None,
        claims: None,
    }
}

fn missing_role() -> Verdict {
    Verdict::Deny(Deny::MissingRole {
        identity: Box::new(alice()),
        required: vec!["admin".into()],
    })
}

#[test]
fn unauthenticated_problem_json() {
    insta::assert_snapshot!(rendered(
        Verdict::Deny(Deny::Unauthenticated),
        JSON,
        Flavour::Generic
    ));
}

#[test]
fn invalid_token_plain_text() {
    let why = Deny::Rejected(Rejection::InvalidToken(TokenProblem::Expired));
    insta::assert_snapshot!(rendered(Verdict::Deny(why), TEXT, Flavour::Generic));
}

#[test]
fn browser_navigation_goes_to_login_with_return_address() {
    insta::assert_snapshot!(rendered(
        Verdict::Deny(Deny::Unauthenticated),
        HTML,
        Flavour::Generic
    ));
}

#[test]
fn browser_form_post_gets_303() {
    let text = rendered_for(
        Verdict::Deny(Deny::Rejected(Rejection::SessionEnded)),
        "POST",
        HTML,
        Flavour::Generic,
    );
    assert!(text.starts_with("303 See Other\n"), "{text}");
    assert!(
        text.contains("location: /.warden/login?rd=%2Fadmin%2Fusers%3Fpage%3D2\n"),
        "{text}"
    );
}

#[test]
fn right_after_sign_in_a_missing_session_is_explained_not_redirected() {
    let headers = [HTML, &[("cookie", "warden_signed_in=1")]].concat();
    insta::assert_snapshot!(rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &headers,
        Flavour::Generic
    ));
}

#[test]
fn forbidden_html_names_the_user_and_offers_a_switch() {
    insta::assert_snapshot!(rendered(missing_role(), HTML, Flavour::Generic));
}

#[test]
fn forbidden_for_api_clients_is_problem_json() {
    let text = rendered(missing_role(), JSON, Flavour::Generic);
    assert!(text.starts_with("403 Forbidden\n"), "{text}");
    assert!(!text.contains("www-authenticate"), "{text}");
    assert!(
        text.contains(r#""detail":"This needs one of these roles: admin.""#),
        "{text}"
    );
}

#[test]
fn nginx_flavour_maps_400_to_401_with_one_challenge_line() {
    let why = Deny::BadSending(warden_core::credentials::SendingError::Multiple);
    insta::assert_snapshot!(rendered(Verdict::Deny(why), JSON, Flavour::Nginx));
}

#[test]
fn nginx_flavour_names_the_login_redirect_on_a_401() {
    // nginx makes a 500 of an auth_request 302: the 401 carries the redirect for error_page.
    let text = rendered(Verdict::Deny(Deny::Unauthenticated), HTML, Flavour::Nginx);
    assert!(text.starts_with("401 Unauthorized\n"), "{text}");
    assert!(text.contains("x-warden-status: 302\n"), "{text}");
    assert!(
        text.contains("location: /.warden/login?rd=%2Fadmin%2Fusers%3Fpage%3D2\n"),
        "{text}"
    );
    assert_eq!(text.matches("www-authenticate:").count(), 1, "{text}");
    let post = rendered_for(
        Verdict::Deny(Deny::Unauthenticated),
        "POST",
        HTML,
        Flavour::Nginx,
    );
    assert!(post.contains("x-warden-status: 303\n"), "{post}");
    let api = rendered(Verdict::Deny(Deny::Unauthenticated), JSON, Flavour::Nginx);
    assert!(!api.contains("location:"), "{api}");
    assert!(api.contains("x-warden-status: 401\n"), "{api}");
}

#[test]
fn upstream_failures_are_502_and_504_without_internals() {
    use warden_core::{UpstreamFailure, render_upstream_failure};
    let config = Config::parse(CONFIG, Path::new("/")).unwrap();
    let method = Method::GET;
    let uri: Uri = "/admin/x".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("application/json"));
    let parts = RequestParts {
        method: &method,
        uri: &uri,
        headers: &headers,
        peer: "192.0.2.1".parse().unwrap(),
        tls: false,
    };
    let facts = facts::read(parts, &config, ForwardSource::Direct);
    let ctx = RenderContext {
        config: &config,
        facts: &facts,
        flavour: Flavour::Generic,
        decision_id: "0000000100000000ab",
    };
    insta::assert_snapshot!(show(&render_upstream_failure(
        UpstreamFailure::Unavailable,
        &ctx
    )));
    let timeout = show(&render_upstream_failure(UpstreamFailure::Timeout, &ctx));
    assert!(timeout.starts_with("504 Gateway Timeout\n"), "{timeout}");
    assert!(
        timeout.contains(r#""code":"upstream_timeout""#),
        "{timeout}"
    );
    assert!(timeout.contains("cache-control: no-store\n"), "{timeout}");
}

#[test]
fn throttled_is_429_with_retry_after() {
    insta::assert_snapshot!(rendered(
        Verdict::Deny(Deny::Throttled { retry_after: 42 }),
        JSON,
        Flavour::Generic
    ));
}

#[test]
fn allow_carries_identity_headers() {
    insta::assert_snapshot!(rendered(
        Verdict::Allow(Some(alice())),
        JSON,
        Flavour::Generic
    ));
}

#[test]
fn preflight_from_an_allowed_origin() {
    let headers = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "DELETE"),
        ("access-control-request-headers", "X-Trace, content-type"),
    ];
    insta::assert_snapshot!(rendered_for(
        Verdict::Preflight,
        "OPTIONS",
        &headers,
        Flavour::Generic
    ));
}

#[test]
fn cross_origin_denial_exposes_the_challenge() {
    let headers = [
        ("origin", "https://app.example"),
        ("accept", "application/json"),
    ];
    insta::assert_snapshot!(rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &headers,
        Flavour::Generic
    ));
    let other = rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &[("origin", "https://evil.example")],
        Flavour::Generic,
    );
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    assert!(other.contains("vary: Origin"), "{other}");
}

#[test]
fn browser_scripts_are_not_offered_basic() {
    let fetch = [
        ("sec-fetch-mode", "cors"),
        ("sec-fetch-dest", "empty"),
        ("accept", "*/*"),
    ];
    let text = rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &fetch,
        Flavour::Generic,
    );
    assert!(text.starts_with("401 Unauthorized\n"), "{text}");
    assert!(text.contains("www-authenticate: Bearer realm="), "{text}");
    assert!(!text.contains("www-authenticate: Basic"), "{text}");
    assert!(
        text.contains(r#"www-authenticate: Cookie realm="corp \"main\" \\ realm", form-action="/.warden/login", cookie-name="warden_session""#),
        "{text}"
    );
    let xhr = rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &[("x-requested-with", "XMLHttpRequest")],
        Flavour::Generic,
    );
    assert!(!xhr.contains("www-authenticate: Basic"), "{xhr}");
    let curl = rendered(
        Verdict::Deny(Deny::Unauthenticated),
        &[("accept", "*/*")],
        Flavour::Generic,
    );
    assert!(curl.contains("www-authenticate: Basic realm="), "{curl}");
}

/// A JWT user who signed in with a password 20 minutes ago, on a rule asking for `mfa` or
/// `phr` within 5 minutes.
fn step_up(shortfall: Shortfall) -> Verdict {
    Verdict::Deny(Deny::StepUp {
        identity: Box::new(Identity {
            method: AuthMethod::Jwt,
            acr: Some("pwd".into()),
            auth_time: Some(1_700_000_000),
            claims: None,
            ..alice()
        }),
        acr: vec!["mfa".into(), "phr".into()],
        max_age: Some(300),
        shortfall,
    })
}

#[test]
fn step_up_is_401_with_the_rule_requirements_in_the_challenge() {
    insta::assert_snapshot!(rendered(step_up(Shortfall::Acr), JSON, Flavour::Generic));
    let age = rendered(step_up(Shortfall::Age), TEXT, Flavour::Generic);
    assert!(age.starts_with("401 Unauthorized\n"), "{age}");
    assert!(
        age.contains(r#"www-authenticate: Bearer realm="corp \"main\" \\ realm", error="insufficient_user_authentication", error_description="a more recent authentication is required", acr_values="mfa phr", max_age="300""#),
        "{age}"
    );
    assert!(age.contains("www-authenticate: Basic realm="), "{age}");
    assert!(
        age.contains("a sign-in within the last 300 seconds"),
        "{age}"
    );
}

#[test]
fn step_up_navigation_goes_to_login_asking_for_the_acr_and_max_age() {
    let text = rendered(step_up(Shortfall::Age), HTML, Flavour::Generic);
    assert!(text.starts_with("302 Found\n"), "{text}");
    assert!(
        text.contains("location: /.warden/login?rd=%2Fadmin%2Fusers%3Fpage%3D2&acr_values=mfa%20phr&max_age=300\n"),
        "{text}"
    );
    assert!(!text.contains("www-authenticate"), "{text}");
    let nginx = rendered(step_up(Shortfall::Acr), HTML, Flavour::Nginx);
    assert!(nginx.starts_with("401 Unauthorized\n"), "{nginx}");
    assert!(nginx.contains("x-warden-status: 302\n"), "{nginx}");
    assert!(
        nginx.contains("&acr_values=mfa%20phr&max_age=300\n"),
        "{nginx}"
    );
}

#[test]
fn right_after_sign_in_a_step_up_is_explained_not_redirected() {
    let headers = [HTML, &[("cookie", "warden_signed_in=1")]].concat();
    insta::assert_snapshot!(rendered(
        step_up(Shortfall::Acr),
        &headers,
        Flavour::Generic
    ));
}

#[test]
fn nginx_flavour_joins_the_step_up_challenges_on_one_line() {
    let text = rendered(step_up(Shortfall::Age), JSON, Flavour::Nginx);
    assert!(text.starts_with("401 Unauthorized\n"), "{text}");
    assert!(text.contains("x-warden-status: 401\n"), "{text}");
    assert_eq!(text.matches("www-authenticate:").count(), 1, "{text}");
    assert!(text.contains(r#"max_age="300", Basic realm="#), "{text}");
    assert!(
        text.contains(r#""code":"insufficient_user_authentication""#),
        "{text}"
    );
}

#[test]
fn nginx_flavour_names_the_resource_metadata_in_its_own_challenge_too() {
    let config = CONFIG.replacen(
        "[authn.jwt]",
        "resource = \"https://api.example\"\nauthorization_servers = [\"https://idp.example\"]\n[authn.jwt]",
        1,
    );
    let why = Deny::BadPath(warden_core::path::PathError::Ambiguous);
    let text = rendered_with(&config, Verdict::Deny(why), "GET", JSON, Flavour::Nginx);
    assert!(text.starts_with("401 Unauthorized\n"), "{text}");
    assert!(
        text.contains(r#"www-authenticate: Bearer realm="corp \"main\" \\ realm", resource_metadata="https://api.example/.well-known/oauth-protected-resource", error="invalid_request""#),
        "{text}"
    );
}
