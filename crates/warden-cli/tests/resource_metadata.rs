//! RFC 9728 protected resource metadata: with `[server] resource`, warden serves the document
//! at its well-known URL and every Bearer challenge names it (`resource_metadata`, right
//! after `realm`); without it, the path is judged like any other and no challenge names it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod contract_rows;

use common::tokens::{Signer, claims, mint, token};
use common::*;
use contract_rows::*;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
const META: &str =
    r#"resource_metadata="https://api.example/.well-known/oauth-protected-resource/v1""#;
const STEP_UP_RULE: &str =
    "[[rule]]\nname = \"payments\"\npath = \"/payments/**\"\nrequire = { acr = [\"mfa\"] }\n";

/// The standard config with the resource keys (`extra` after `resource`).
fn config(resource: &str, extra: &str) -> String {
    let keys = format!(
        "realm = \"example\"\nresource = \"{resource}\"\nauthorization_servers = [\"https://idp.example\", \"https://login.example/tenant\"]\n{extra}"
    );
    replace(&standard_config(), "realm = \"example\"\n", &keys) + STEP_UP_RULE
}

#[test]
fn the_document_is_served_at_the_well_known_url_of_the_resource() {
    let extra = "scopes_supported = [\"orders:read\", \"orders:write\"]\nresource_name = \"Orders \\\"API\\\"\"\n";
    let warden = Env::new(&config("https://api.example/v1", extra)).serve();
    let path = format!("{WELL_KNOWN}/v1");
    let r = warden.get(&path, &[("Accept", "application/json")]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.all("cache-control"), ["max-age=300"]);
    assert!(r.header("x-warden-decision").is_none(), "{r:#?}");
    assert_eq!(
        r.body,
        r#"{"resource":"https://api.example/v1","authorization_servers":["https://idp.example","https://login.example/tenant"],"bearer_methods_supported":["header"],"scopes_supported":["orders:read","orders:write"],"resource_name":"Orders \"API\""}"#
    );
    assert_eq!(r.header("content-length"), Some(&*r.body.len().to_string()));
    let head = warden.send("HEAD", &path, &[]);
    assert_eq!(head.status, 200, "{head:#?}");
    assert!(head.body.is_empty(), "{head:#?}");
    assert_eq!(stable_headers(&head), stable_headers(&r));
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = warden.send(method, &path, &[]);
        assert_eq!(r.status, 405, "{method}: {r:#?}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // Only the resource's own well-known URL is warden's: the bare one is judged (no rule).
    let r = warden.get(WELL_KNOWN, &[("Accept", "application/json")]);
    assert_eq!((r.status, r.code().as_str()), (403, "no_rule"), "{r:#?}");
}

#[test]
fn a_resource_without_a_path_has_the_bare_well_known_url_and_optional_members_left_out() {
    let warden = Env::new(&config("https://api.example", "")).serve();
    let r = warden.get(WELL_KNOWN, &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(
        r.json(),
        serde_json::json!({
            "resource": "https://api.example",
            "authorization_servers": ["https://idp.example", "https://login.example/tenant"],
            "bearer_methods_supported": ["header"],
        })
    );
    let r = warden.get("/private/x", &[]);
    assert_eq!(
        r.challenges()[0],
        format!("{BEARER}, resource_metadata=\"https://api.example{WELL_KNOWN}\"")
    );
}

#[test]
fn without_a_resource_the_path_is_judged_and_no_challenge_names_metadata() {
    let warden = Env::new(&standard_config()).serve();
    let r = warden.get(WELL_KNOWN, &[("Accept", "application/json")]);
    assert_eq!((r.status, r.code().as_str()), (403, "no_rule"), "{r:#?}");
    let r = warden.get("/private/x", &[]);
    assert_eq!(r.challenges(), [BEARER, BASIC]);
}

/// `challenge` with the metadata right after `realm`.
fn named(challenge: &str) -> &'static str {
    let named = challenge.replacen(BEARER, &format!("{BEARER}, {META}"), 1);
    Box::leak(named.into_boxed_str())
}

#[test]
fn every_bearer_challenge_names_the_metadata() {
    let warden = Env::new(&config("https://api.example/v1", "")).serve();
    warden.add_user("carol", "pw", &[]);
    let a = "Authorization";
    let viewer = bearer(&token("bob", &["viewer"], "orders:read"));
    let mut c = claims("alice", &[], "");
    c["acr"] = "pwd".into();
    let weak = bearer(&mint(Signer::Es256, &c));
    let step_up = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa""#;
    let (b, bi, br) = (
        named(BEARER),
        named(BEARER_INVALID),
        named(BEARER_BAD_REQUEST),
    );
    #[rustfmt::skip]
    let rows = [
        deny("no credentials", "GET", "/private/x", &[], 401, &[b, BASIC], PROBLEM, "unauthenticated"),
        deny("invalid_token", "GET", "/private/x", &[(a, "Bearer abc.def.ghi")], 401, &[bi, BASIC], PROBLEM, "invalid_token"),
        deny("invalid_request", "GET", "/private/x", &[(a, "Bearer a b")], 400, &[br], PROBLEM, "invalid_request"),
        deny("insufficient_scope", "POST", "/api/orders/1", &[(a, &viewer)], 403, &[named(BEARER_SCOPE)], PROBLEM, "insufficient_scope"),
        deny("insufficient_user_authentication", "GET", "/payments/1", &[(a, &weak)], 401, &[named(step_up), BASIC], PROBLEM, "insufficient_user_authentication"),
        deny("Basic wrong password", "GET", "/private/x", &[(a, &basic("carol", "no"))], 401, &[b, BASIC], PROBLEM, "invalid_credentials"),
        deny("missing role: no challenge", "GET", "/admin/x", &[(a, &viewer)], 403, &[], PROBLEM, "forbidden"),
    ];
    let mut failures = Vec::new();
    for row in &rows {
        let h: Vec<(&str, &str)> = (row.headers.iter())
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let r = warden.send(row.method, &row.target, &h);
        failures.extend(
            check(row, &r)
                .into_iter()
                .map(|p| format!("[{}] {p}", row.name)),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The challenge the nginx flavour adds to a 400 it turns into 401 names it too.
    let r = warden.get("/.warden/nginx", &[("X-Original-URI", "/private%2Fx")]);
    assert_eq!((r.status, r.header("x-warden-status")), (401, Some("400")));
    assert_eq!(r.challenges(), [br]);
}
