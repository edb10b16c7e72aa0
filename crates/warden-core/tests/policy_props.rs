#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property: a condition only ever takes access away. The same configuration judged without
//! conditions and with random conditions on its rules, through `Engine::begin`/`finish` and
//! the renderer: a request denied without them is denied with them, with the same status
//! (but for a step-up, see below), and a request let through with them is let through
//! without them, rendered the same.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as Cases, TestRunner};
use serde_json::{Map, Value};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Authn, Config, Decision, Deny, Engine, Flavour, Identity, Outcome, Rejection,
    RenderContext, Step, Verdict, render,
};

const BASE: &str = r#"version = 1
[server]
listen = "127.0.0.1:4180"
realm = "example"
[authn.jwt]
jwks_file = "keys.json"
issuer = "https://idp.example"
audience = "api"
[authn.basic]
[authn.api_key]
[network]
deny = ["203.0.113.0/24"]
trusted_proxies = ["127.0.0.1/32"]
[policy.claims]
tenant = "String"
level = "Long"
amr = "Set<String>"
"#;

/// The rules: (path prefix, whether anyone may pass, the rest of the rule). Every path
/// names `{tenant}` and `{item}`, so every condition below type-checks on every rule.
const RULES: [(&str, bool, &str); 9] = [
    ("open", true, "allow = \"anyone\""),
    ("t", false, "require = { roles = [\"billing\", \"admin\"] }"),
    (
        "r",
        false,
        "methods = [\"GET\", \"POST\"]\nrequire = { scopes = [\"read\"] }",
    ),
    ("v", false, "require = \"authenticated\"\nhide = true"),
    ("p", false, "require = { acr = [\"mfa\"], max_age = 300 }"),
    ("c", false, "allow = \"nobody\""),
    (
        "h",
        false,
        "host = \"api.example\"\nrequire = \"authenticated\"",
    ),
    (
        "l",
        false,
        "require = \"authenticated\"\nauthn = [\"basic\"]",
    ),
    ("", false, "require = \"authenticated\""),
];

/// Conditions a rule for anyone may carry (they read no identity).
const CONTEXT: [&str; 7] = [
    r#"context.params.tenant == "acme""#,
    r#"context.method == "GET""#,
    r#"context.client.isInRange(ip("10.0.0.0/8"))"#,
    r#"context.headers.hasTag("x-tenant") && context.headers.getTag("x-tenant") == context.params.tenant"#,
    r#"context.query.hasTag("format")"#,
    "context.hour < 12",
    r#"context.params.item like "4*""#,
];

/// Conditions on the identity, for the other rules (which may carry `CONTEXT` ones too).
const IDENTITY: [&str; 5] = [
    "principal.claims.tenant == context.params.tenant",
    "principal.claims.level >= 3",
    r#"principal.roles.contains("admin") || context.method == "GET""#,
    r#"principal.claims.amr.contains("mfa")"#,
    r#"principal has acr && principal.acr == "mfa""#,
];

fn condition(index: usize) -> &'static str {
    CONTEXT
        .get(index)
        .copied()
        .unwrap_or_else(|| IDENTITY[index - CONTEXT.len()])
}

/// The configuration, each rule with the conditions `when` names (indices into
/// `CONTEXT` then `IDENTITY`), or none at all.
fn config(when: Option<&[Vec<usize>]>) -> Config {
    let mut text = String::from(BASE);
    for (i, (prefix, _, body)) in RULES.iter().enumerate() {
        let path = if prefix.is_empty() {
            "/{tenant}/{item}/**".to_owned()
        } else {
            format!("/{prefix}/{{tenant}}/{{item}}/**")
        };
        text.push_str(&format!(
            "[[rule]]\nname = \"rule-{i}\"\npath = \"{path}\"\n{body}\n"
        ));
        let picked = when.map_or(&[][..], |w| w[i].as_slice());
        if !picked.is_empty() {
            let items: Vec<String> = picked
                .iter()
                .map(|c| format!("'{}'", condition(*c)))
                .collect();
            text.push_str(&format!("when = [{}]\n", items.join(", ")));
        }
    }
    Config::parse(&text, Path::new("/")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn when() -> impl Strategy<Value = Vec<Vec<usize>>> {
    let all: Vec<usize> = (0..CONTEXT.len() + IDENTITY.len()).collect();
    let context: Vec<usize> = (0..CONTEXT.len()).collect();
    RULES
        .iter()
        .map(|(_, anyone, _)| {
            let pool = if *anyone {
                context.clone()
            } else {
                all.clone()
            };
            prop::collection::vec(select(pool), 0..3)
        })
        .collect::<Vec<_>>()
}

const NOW: u64 = 1_700_000_000;

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    target: String,
    host: Option<&'static str>,
    credential: Option<&'static str>,
    tenant_header: Option<&'static str>,
    peer: &'static str,
    authn: Authn,
    now: u64,
}

fn word() -> impl Strategy<Value = &'static str> {
    select(&["acme", "globex", "42", "4x"][..])
}

fn identity() -> impl Strategy<Value = Identity> {
    let names = |pool: &'static [&'static str]| {
        prop::collection::vec(select(pool).prop_map(str::to_owned), 0..3)
    };
    let claim = |v: BoxedStrategy<Value>| prop::option::weighted(0.8, v);
    let claims = (
        claim(word().prop_map(Value::from).boxed()),
        claim(prop_oneof![(0i64..6).prop_map(Value::from), Just(Value::from("3"))].boxed()),
        claim(
            prop::collection::vec(select(&["mfa", "pwd"][..]).prop_map(Value::from), 0..3)
                .prop_map(Value::Array)
                .boxed(),
        ),
    )
        .prop_map(|(tenant, level, amr)| {
            let fields = [("tenant", tenant), ("level", level), ("amr", amr)];
            let map: Map<String, Value> = (fields.into_iter())
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect();
            Arc::new(map)
        });
    (
        names(&["admin", "billing", "ops"]),
        names(&["read", "write"]),
        prop::option::of(select(&["mfa", "pwd"][..])),
        prop::option::of(0u64..600),
        prop::option::weighted(0.85, claims),
    )
        .prop_map(|(roles, scopes, acr, ago, claims)| Identity {
            subject: "alice".into(),
            roles,
            scopes,
            method: AuthMethod::Jwt,
            acr: acr.map(str::to_owned),
            auth_time: ago.map(|a| NOW - a),
            claims,
        })
}

fn authn() -> impl Strategy<Value = Authn> {
    prop_oneof![
        8 => identity().prop_map(Authn::Authenticated),
        1 => Just(Authn::Rejected(Rejection::BadPassword)),
        1 => Just(Authn::Unavailable),
        1 => Just(Authn::Throttled { retry_after: 5 }),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let prefixes: Vec<&str> = RULES.iter().map(|r| r.0).chain(["x"]).collect();
    let target = (
        select(prefixes),
        word(),
        word(),
        select(&["", "/more", "/a/b"][..]),
        select(&["", "?format=csv", "?x=1"][..]),
    )
        .prop_map(|(prefix, tenant, item, rest, query)| {
            let head = if prefix.is_empty() {
                String::new()
            } else {
                format!("/{prefix}")
            };
            format!("{head}/{tenant}/{item}{rest}{query}")
        });
    let credential = prop::option::weighted(
        0.8,
        select(
            &[
                "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
                "Basic YWxpY2U6cHc=",
                "Bearer wdn_0123456789",
                "Bearer",
            ][..],
        ),
    );
    (
        select(&["GET", "POST", "DELETE"][..]),
        target,
        prop::option::of(select(&["api.example", "other.example"][..])),
        credential,
        prop::option::of(word()),
        select(&["10.1.2.3", "192.0.2.1", "203.0.113.5", "::1"][..]),
        authn(),
        NOW..NOW + 86_400,
    )
        .prop_map(
            |(method, target, host, credential, tenant_header, peer, authn, now)| Request {
                method,
                target,
                host,
                credential,
                tenant_header,
                peer,
                authn,
                now,
            },
        )
}

/// The decision and its rendering; the authenticator answers `r.authn` when asked.
fn judge(engine: &Engine, r: &Request) -> (Decision, Outcome) {
    let method = Method::from_bytes(r.method.as_bytes()).unwrap();
    let uri: Uri = r.target.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("application/json"));
    let optional = [
        ("host", r.host),
        ("authorization", r.credential),
        ("x-tenant", r.tenant_header),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(v));
        }
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
    let decision = match engine.begin(&facts, r.now) {
        Step::Decided(d) => d,
        Step::Authenticate(pending) => engine.finish(pending, r.authn.clone(), &facts, r.now),
    };
    let ctx = RenderContext {
        config,
        facts: &facts,
        flavour: Flavour::Generic,
        decision_id: "test",
    };
    let outcome = render(&decision, &ctx);
    (decision, outcome)
}

fn allowed(d: &Decision) -> bool {
    matches!(d.verdict, Verdict::Allow(_))
}

#[test]
fn a_condition_only_turns_allows_into_denials() {
    let plain = Engine::new(config(None));
    let cases = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => Cases::default(),
        None => Cases::with_cases(64),
    };
    let strategy = (when(), prop::collection::vec(request(), 16));
    // Allowed both ways, denied only with conditions, denied both ways.
    let seen = RefCell::new([0u32; 3]);
    let result = TestRunner::new(cases).run(&strategy, |(when, requests)| {
        let guarded = Engine::new(config(Some(&when)));
        for r in &requests {
            let (without, shown_without) = judge(&plain, r);
            let (with, shown_with) = judge(&guarded, r);
            let (was, is) = (shown_without.status, shown_with.status);
            prop_assert!(
                !allowed(&with) || allowed(&without),
                "allowed only with conditions: {r:?}\n{without:?}\n{with:?}"
            );
            let way = match (allowed(&without), allowed(&with)) {
                (true, true) => 0,
                (true, false) => 1,
                _ => 2,
            };
            seen.borrow_mut()[way] += 1;
            if allowed(&with) {
                prop_assert_eq!(&shown_with, &shown_without, "an allow renders the same");
                continue;
            }
            if allowed(&without) {
                prop_assert!(
                    matches!(with.verdict, Verdict::Deny(Deny::Condition { .. })),
                    "a new denial is a condition's: {:?}",
                    with
                );
                continue;
            }
            // A step-up that a failing condition would not survive is not offered: the
            // conditions are judged first, so the denial is the condition's 403/404.
            let step_up_preempted = matches!(without.verdict, Verdict::Deny(Deny::StepUp { .. }))
                && matches!(with.verdict, Verdict::Deny(Deny::Condition { .. }));
            if !step_up_preempted {
                prop_assert_eq!(
                    was,
                    is,
                    "same denial status: {:?}\n{:?}\n{:?}",
                    r,
                    without,
                    with
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let [kept, denied, both] = seen.into_inner();
    println!("allowed both ways {kept}, denied by a condition {denied}, denied both ways {both}");
    assert!(kept > 0 && denied > 0 && both > 0, "{kept} {denied} {both}");
}
