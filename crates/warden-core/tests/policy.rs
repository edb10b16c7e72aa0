#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Rule conditions (Cedar expressions) through the engine and the renderer: every condition
//! form, every status class, the runtime-error case, and the config errors at load.

use std::path::Path;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use serde_json::{Value, json};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Authn, Config, Deny, Engine, Flavour, Identity, Outcome, RenderContext, Step,
    Verdict, render,
};

const NOW: u64 = 1_700_000_000; // Tuesday 2023-11-14 22:13:20 UTC

const CONFIG: &str = r#"
version = 1
[server]
listen = "127.0.0.1:4180"
realm = "example"
[authn.jwt]
jwks_file = "keys.json"
issuer = "https://idp.example"
audience = "api"
[network]
trusted_proxies = ["127.0.0.1/32"]
[policy.claims]
tenant = "String"
amr = "Set<String>"
level = "Long"
org = { id = "Long", region = "String" }
[[rule]]
name = "invoices"
path = "/tenants/{tenant}/invoices/**"
require = { roles = ["billing", "admin"] }
when = [
  'principal.claims.tenant == context.params.tenant',
  'context.method == "GET" || principal.roles.contains("admin")',
]
[[rule]]
name = "admin-mfa-office"
path = "/admin/**"
require = { roles = ["admin"] }
when = [
  'principal.claims.amr.contains("mfa")',
  'context.client.isInRange(ip("10.0.0.0/8"))',
]
[[rule]]
name = "hidden"
path = "/vault/**"
require = "authenticated"
hide = true
when = ['principal.claims.level >= 3']
[[rule]]
name = "headers-query-time"
path = "/reports/{id}"
require = { scopes = ["reports:read"] }
when = [
  'context.headers.hasTag("x-tenant") && context.headers.getTag("x-tenant") == principal.claims.tenant',
  'context.query.hasTag("format") && context.query.getTag("format") like "*sv"',
  'context.weekday <= 5 && context.hour >= 8',
  'principal.claims.org.region == "eu" && context.host like "*.example"',
]
[[rule]]
name = "office-only"
path = "/status"
allow = "anyone"
when = ['context.client.isInRange(ip("10.0.0.0/8"))']
"#;

fn engine() -> Engine {
    Engine::new(Config::parse(CONFIG, Path::new("/")).unwrap())
}

fn user(roles: &[&str], scopes: &[&str], claims: Value) -> Identity {
    Identity {
        subject: "alice".into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        method: AuthMethod::Jwt,
        acr: None,
        auth_time: None,
        claims: claims.as_object().cloned().map(Arc::new),
    }
}

struct Req<'a> {
    method: &'a str,
    target: &'a str,
    headers: &'a [(&'a str, &'a str)],
    peer: &'a str,
}

fn req(method: &'static str, target: &'static str) -> Req<'static> {
    Req {
        method,
        target,
        headers: &[("accept", "application/json"), ("host", "api.example")],
        peer: "10.1.2.3",
    }
}

/// The decision and its rendering; `who` answers the authenticator when it is asked.
fn judge(engine: &Engine, r: &Req<'_>, who: Option<Identity>) -> (Verdict, Outcome) {
    let method = Method::from_bytes(r.method.as_bytes()).unwrap();
    let uri: Uri = r.target.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.append("authorization", HeaderValue::from_static("Bearer a.b.c"));
    for (k, v) in r.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).unwrap();
        headers.append(name, HeaderValue::from_str(v).unwrap());
    }
    if who.is_none() {
        headers.remove("authorization");
    }
    let parts = RequestParts {
        method: &method,
        uri: &uri,
        headers: &headers,
        peer: r.peer.parse().unwrap(),
        tls: false,
    };
    let config = engine.config();
    let facts = facts::read(parts, config, ForwardSource::Direct);
    let decision = match engine.begin(&facts, NOW) {
        Step::Decided(d) => d,
        Step::Authenticate(pending) => {
            let id = who.expect("the authenticator was asked");
            engine.finish(pending, Authn::Authenticated(id), &facts, NOW)
        }
    };
    let ctx = RenderContext {
        config,
        facts: &facts,
        flavour: Flavour::Generic,
        decision_id: "test",
    };
    let outcome = render(&decision, &ctx);
    (decision.verdict, outcome)
}

fn header<'a>(o: &'a Outcome, name: &str) -> Option<&'a str> {
    o.headers.get(name).map(|v| v.to_str().unwrap())
}

fn assert_forbidden(o: &Outcome, status: u16) {
    assert_eq!(o.status.as_u16(), status, "{o:?}");
    assert_eq!(
        header(o, "www-authenticate"),
        None,
        "a denial for who you are has no challenge"
    );
    assert_eq!(header(o, "content-type"), Some("application/problem+json"));
    assert_eq!(header(o, "cache-control"), Some("no-store"));
    let body: Value = serde_json::from_str(&o.body).unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(
        body["code"],
        if status == 404 {
            "not_found"
        } else {
            "forbidden"
        }
    );
    let text = &o.body;
    assert!(
        !text.contains("principal") && !text.contains("claims"),
        "no condition in the body: {text}"
    );
}

fn unmet(v: &Verdict) -> (&'static str, usize) {
    match v {
        Verdict::Deny(d @ Deny::Condition { unmet, .. }) => (d.reason(), unmet.index()),
        other => panic!("not a condition denial: {other:?}"),
    }
}

fn billing(tenant: &str) -> Identity {
    user(&["billing"], &[], json!({"tenant": tenant}))
}

#[test]
fn a_tenant_reads_its_own_invoices_and_only_reads() {
    let e = engine();
    let (v, o) = judge(
        &e,
        &req("GET", "/tenants/acme/invoices/7"),
        Some(billing("acme")),
    );
    assert!(matches!(v, Verdict::Allow(Some(_))), "{v:?}");
    assert_eq!(o.status.as_u16(), 200);
    assert_eq!(header(&o, "x-auth-subject"), Some("alice"));

    let (v, o) = judge(
        &e,
        &req("GET", "/tenants/globex/invoices/7"),
        Some(billing("acme")),
    );
    assert_eq!(unmet(&v), ("condition_failed", 0));
    assert_forbidden(&o, 403);

    let (v, o) = judge(
        &e,
        &req("DELETE", "/tenants/acme/invoices/7"),
        Some(billing("acme")),
    );
    assert_eq!(unmet(&v), ("condition_failed", 1));
    assert_forbidden(&o, 403);

    let admin = user(&["admin"], &[], json!({"tenant": "acme"}));
    let (v, _) = judge(&e, &req("DELETE", "/tenants/acme/invoices/7"), Some(admin));
    assert!(matches!(v, Verdict::Allow(_)), "{v:?}");
}

#[test]
fn a_missing_role_is_judged_before_any_condition() {
    let (v, o) = judge(
        &engine(),
        &req("GET", "/tenants/acme/invoices/7"),
        Some(user(&["ops"], &[], json!({"tenant": "acme"}))),
    );
    assert!(
        matches!(v, Verdict::Deny(Deny::MissingRole { .. })),
        "{v:?}"
    );
    assert_forbidden(&o, 403);
}

#[test]
fn an_anonymous_request_gets_the_challenge_never_a_condition() {
    let (v, o) = judge(&engine(), &req("GET", "/tenants/acme/invoices/7"), None);
    assert!(matches!(v, Verdict::Deny(Deny::Unauthenticated)), "{v:?}");
    assert_eq!(o.status.as_u16(), 401);
    assert_eq!(
        header(&o, "www-authenticate"),
        Some(r#"Bearer realm="example""#)
    );
}

#[test]
fn a_missing_claim_or_a_claim_of_the_wrong_type_is_a_403_error_never_an_allow() {
    let e = engine();
    for claims in [json!({}), json!({"tenant": 7}), json!({"tenant": null})] {
        let who = user(&["billing"], &[], claims.clone());
        let (v, o) = judge(&e, &req("GET", "/tenants/acme/invoices/7"), Some(who));
        let (reason, index) = unmet(&v);
        assert_eq!(index, 0, "{claims}");
        // A number is not a string: `==` across types is false in Cedar, not an error.
        let want = if claims["tenant"].is_number() {
            "condition_failed"
        } else {
            "condition_error"
        };
        assert_eq!(reason, want, "{claims}");
        assert_forbidden(&o, 403);
    }
    // A set claim sent as a string: `.contains` on a string cannot be evaluated.
    let who = user(&["admin"], &[], json!({"amr": "mfa"}));
    let (v, o) = judge(&e, &req("GET", "/admin/x"), Some(who));
    assert_eq!(unmet(&v), ("condition_error", 0));
    assert_forbidden(&o, 403);
    // An identity with no claims at all (Basic, API key).
    let mut who = user(&["admin"], &[], json!({}));
    who.claims = None;
    let (v, _) = judge(&e, &req("GET", "/admin/x"), Some(who));
    assert_eq!(unmet(&v), ("condition_error", 0));
}

#[test]
fn network_and_mfa_conditions() {
    let e = engine();
    let mfa = || user(&["admin"], &[], json!({"amr": ["pwd", "mfa"]}));
    let (v, _) = judge(&e, &req("GET", "/admin/x"), Some(mfa()));
    assert!(matches!(v, Verdict::Allow(_)), "{v:?}");
    let home = Req {
        peer: "192.0.2.1",
        ..req("GET", "/admin/x")
    };
    let (v, o) = judge(&e, &home, Some(mfa()));
    assert_eq!(unmet(&v), ("condition_failed", 1));
    assert_forbidden(&o, 403);
    let pwd = user(&["admin"], &[], json!({"amr": ["pwd"]}));
    let (v, _) = judge(&e, &req("GET", "/admin/x"), Some(pwd));
    assert_eq!(unmet(&v), ("condition_failed", 0));
}

#[test]
fn a_hidden_rule_answers_404_when_a_condition_fails() {
    let e = engine();
    let low = user(&[], &[], json!({"level": 2}));
    let (v, o) = judge(&e, &req("GET", "/vault/a"), Some(low));
    assert_eq!(unmet(&v), ("condition_failed", 0));
    assert_forbidden(&o, 404);
    let high = user(&[], &[], json!({"level": 3}));
    assert!(matches!(
        judge(&e, &req("GET", "/vault/a"), Some(high)).0,
        Verdict::Allow(_)
    ));
}

#[test]
fn headers_query_time_host_and_nested_claims() {
    let e = engine();
    let who = || {
        user(
            &[],
            &["reports:read"],
            json!({"tenant": "acme", "org": {"id": 1, "region": "eu"}}),
        )
    };
    let headers = [
        ("accept", "application/json"),
        ("host", "api.example"),
        ("x-tenant", "acme"),
    ];
    let ok = Req {
        headers: &headers,
        ..req("GET", "/reports/1?format=csv")
    };
    let (v, _) = judge(&e, &ok, Some(who()));
    assert!(matches!(v, Verdict::Allow(_)), "{v:?}");
    let (v, _) = judge(
        &e,
        &Req {
            headers: &headers,
            ..req("GET", "/reports/1?format=pdf")
        },
        Some(who()),
    );
    assert_eq!(unmet(&v), ("condition_failed", 1));
    let (v, _) = judge(&e, &req("GET", "/reports/1?format=csv"), Some(who()));
    assert_eq!(unmet(&v), ("condition_failed", 0), "no x-tenant header");
    let wrong = [
        ("accept", "application/json"),
        ("host", "api.example"),
        ("x-tenant", "globex"),
    ];
    let (v, _) = judge(
        &e,
        &Req {
            headers: &wrong,
            ..req("GET", "/reports/1?format=csv")
        },
        Some(who()),
    );
    assert_eq!(unmet(&v), ("condition_failed", 0));
    let us = user(
        &[],
        &["reports:read"],
        json!({"tenant": "acme", "org": {"id": 1, "region": "us"}}),
    );
    let (v, _) = judge(&e, &ok, Some(us));
    assert_eq!(unmet(&v), ("condition_failed", 3));
    // A missing scope is still the 403 with `insufficient_scope`, before any condition.
    let (v, o) = judge(&e, &ok, Some(user(&[], &[], json!({}))));
    assert!(
        matches!(v, Verdict::Deny(Deny::MissingScope { .. })),
        "{v:?}"
    );
    assert!(
        header(&o, "www-authenticate")
            .unwrap()
            .contains(r#"error="insufficient_scope""#)
    );
}

#[test]
fn a_rule_for_anyone_judges_its_conditions_without_credentials() {
    let e = engine();
    let (v, o) = judge(&e, &req("GET", "/status"), None);
    assert!(matches!(v, Verdict::Allow(None)), "{v:?}");
    assert_eq!(o.status.as_u16(), 200);
    let outside = Req {
        peer: "192.0.2.1",
        ..req("GET", "/status")
    };
    let (v, o) = judge(&e, &outside, None);
    assert_eq!(unmet(&v), ("condition_failed", 0));
    assert_forbidden(&o, 403);
}

/// The problems `config check` would print, as `key: message`.
fn problems(extra: &str) -> Vec<(String, usize, String)> {
    let text = format!("{}{extra}", CONFIG);
    match Config::parse(&text, Path::new("/")) {
        Ok(_) => panic!("accepted:\n{extra}"),
        Err(e) => e
            .issues
            .into_iter()
            .map(|i| (i.key, i.line, i.message))
            .collect(),
    }
}

fn rule_with(when: &str) -> String {
    format!(
        "[[rule]]\nname = \"extra\"\npath = \"/x/{{id}}\"\nrequire = \"authenticated\"\nwhen = [\n  '{when}',\n]\n"
    )
}

#[test]
fn conditions_are_type_checked_at_load_with_their_line() {
    let line = CONFIG.lines().count() + 6;
    let cases = [
        ("principal.claims.tenantx == \"a\"", "tenantx"),
        ("context.params.idx == \"1\"", "idx"),
        ("principal.claims.level == \"3\"", ""),
        ("principal.claims.tenant ==", "not a Cedar condition"),
        ("principal in Warden::Group::\"g\"", ""),
        (
            "context.headers.getTag(\"x-tenant\") == \"a\"",
            "safety of access to tag",
        ),
        ("context.headers.hasTag(\"X-Tenant\")", "lowercase"),
        (
            "context.headers.hasTag(\"authorization\")",
            "credential headers",
        ),
        ("true } when { false", ""),
        ("context.method", ""),
    ];
    for (when, says) in cases {
        let found = problems(&rule_with(when));
        assert_eq!(found.len(), 1, "{when}: {found:?}");
        let (key, at, message) = &found[0];
        assert_eq!(key, "rule[5].when[0]", "{when}");
        assert_eq!(*at, line, "{when}: {message}");
        assert!(message.contains(says), "{when}: {message}");
    }
}

#[test]
fn other_config_errors_name_their_key() {
    let anyone = "[[rule]]\nname = \"open\"\npath = \"/o\"\nallow = \"anyone\"\nwhen = ['principal.roles.isEmpty()']\n";
    let found = problems(anyone);
    assert!(found[0].2.contains("lets anyone in"), "{found:?}");
    let bad_type = CONFIG.replace("level = \"Long\"", "level = \"Integer\"");
    let err = Config::parse(&bad_type, Path::new("/")).unwrap_err();
    assert_eq!(err.issues[0].key, "policy.claims.level", "{err}");
    let bad_path =
        "[[rule]]\nname = \"p\"\npath = \"/files/{id}.json\"\nrequire = \"authenticated\"\n";
    let found = problems(bad_path);
    assert_eq!(found[0].0, "rule[5].path", "{found:?}");
    let empty = "[[rule]]\nname = \"e\"\npath = \"/e\"\nrequire = \"authenticated\"\nwhen = []\n";
    assert!(problems(empty)[0].2.contains("at least one condition"));
}
