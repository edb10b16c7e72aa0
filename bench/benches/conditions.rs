//! What rule conditions cost a decision: `facts::read` + `Engine::begin` + `Engine::finish`
//! with an already-judged JWT identity (what the token cache hands back), signature checks
//! and rendering excluded, as in benches/decide.rs.
//!
//! - `one_rule/{plain,five_conditions}`: the same JWT rule without conditions and with five
//!   (`when` entries: a claim against a path segment, a set claim, the client network, the
//!   method, a header guarded by `hasTag`); the difference is what the five cost.
//! - `rules_1000/{plain,conditions}`: 1 000 rules on distinct paths, each with conditions in
//!   the second case, the request matching the last one.
//!
//! Measured in thread CPU time (benches/cputime.rs), so other work on the machine does not
//! inflate it. `cargo bench --bench conditions` (pin it with `taskset -c 0` when you can).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};

mod cputime;
use cputime::ThreadCpuTime;
use http::{HeaderMap, HeaderValue, Method, Uri, header};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::policy::Input;
use warden_core::{AuthMethod, Authn, Config, Decision, Engine, Identity, Step, Verdict};

const RULES: usize = 1000;

/// The five conditions of the one-rule case.
const FIVE: [&str; 5] = [
    "principal.claims.tenant == context.params.tenant",
    r#"principal.claims.amr.contains("mfa")"#,
    r#"context.client.isInRange(ip("10.0.0.0/8"))"#,
    r#"context.method == "GET" || context.method == "HEAD""#,
    r#"context.headers.hasTag("x-tenant") && context.headers.getTag("x-tenant") == context.params.tenant"#,
];

const HEAD: &str = r#"version = 1
[server]
listen = "127.0.0.1:4180"
realm = "bench"
[authn.jwt]
jwks_file = "jwks.json"
issuer = "https://idp.bench"
audience = "api"
[network]
trusted_proxies = ["127.0.0.1/32"]
[policy.claims]
tenant = "String"
amr = "Set<String>"
level = "Long"
"#;

fn when(conditions: &[&str]) -> String {
    let items: Vec<String> = conditions.iter().map(|c| format!("'{c}'")).collect();
    format!("when = [{}]\n", items.join(", "))
}

/// One JWT rule, with the five conditions or none.
fn one_rule(conditions: bool) -> String {
    let mut s = String::from(HEAD);
    s.push_str("[[rule]]\nname = \"reports\"\npath = \"/tenants/{tenant}/reports/**\"\nrequire = { roles = [\"billing\", \"admin\"] }\n");
    if conditions {
        s.push_str(&when(&FIVE));
    }
    s
}

/// 1 000 rules of decide.rs's shapes with a `{tenant}` segment each, every one with one to
/// five conditions when `conditions`, the last `/private/{tenant}/**` with all five.
fn many_rules(conditions: bool) -> String {
    let mut s = String::from(HEAD);
    for i in 0..RULES - 1 {
        let _ = match i % 4 {
            0 => write!(
                s,
                "[[rule]]\nname = \"svc-{i}\"\npath = \"/svc-{i}/{{tenant}}/**\"\nrequire = {{ roles = [\"role-{i}\", \"admin\"] }}\n"
            ),
            1 => write!(
                s,
                "[[rule]]\nname = \"svc-{i}-write\"\npath = \"/svc-{i}/{{tenant}}/items/**\"\nmethods = [\"POST\", \"PUT\"]\nrequire = {{ scopes = [\"svc-{i}:write\"] }}\n"
            ),
            2 => write!(
                s,
                "[[rule]]\nname = \"svc-{i}-user\"\npath = \"/svc-{i}/{{tenant}}/users/*/profile\"\nrequire = \"authenticated\"\n"
            ),
            _ => write!(
                s,
                "[[rule]]\nname = \"svc-{i}-public\"\npath = \"/svc-{i}/{{tenant}}/public/**\"\nallow = \"anyone\"\n"
            ),
        };
        if conditions {
            // A rule for anyone may not read the identity: its conditions are the request's.
            let pool: &[&str] = if i % 4 == 3 { &FIVE[2..] } else { &FIVE };
            s.push_str(&when(&pool[..1 + i % pool.len()]));
        }
    }
    s.push_str("[[rule]]\nname = \"private\"\npath = \"/private/{tenant}/**\"\nrequire = \"authenticated\"\n");
    if conditions {
        s.push_str(&when(&FIVE));
    }
    s
}

fn identity() -> Identity {
    let claims = serde_json::json!({
        "iss": "https://idp.bench", "aud": "api", "sub": "bench", "exp": 1_900_000_000,
        "tenant": "acme", "amr": ["pwd", "mfa"], "level": 3, "roles": ["admin"],
    });
    Identity {
        subject: "bench".into(),
        roles: vec!["admin".into()],
        scopes: Vec::new(),
        method: AuthMethod::Jwt,
        acr: None,
        auth_time: None,
        claims: claims.as_object().cloned().map(Arc::new),
    }
}

/// read + begin + finish: the decision without rendering it.
fn decide(engine: &Engine, uri: &Uri, headers: &HeaderMap, who: &Identity) -> Decision {
    let parts = RequestParts {
        method: &Method::GET,
        uri,
        headers,
        peer: "10.1.2.3".parse().expect("ip"),
        tls: false,
    };
    let facts = facts::read(parts, engine.config(), ForwardSource::Forwarded);
    match engine.begin(&facts, 0) {
        Step::Decided(d) => d,
        Step::Authenticate(pending) => {
            engine.finish(pending, Authn::Authenticated(who.clone()), &facts, 0)
        }
    }
}

fn engine(text: &str, name: &str) -> Engine {
    let started = Instant::now();
    let config = Config::parse(text, Path::new("/")).expect("config");
    eprintln!("{name}: config loaded in {:.2?}", started.elapsed());
    Engine::new(config)
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let mut headers = HeaderMap::new();
    // A realistic token length (the benchmark tokens are about 330 bytes); never verified here.
    let token = format!(
        "Bearer eyJ{}.eyJ{}.{}",
        "a".repeat(40),
        "b".repeat(200),
        "c".repeat(86)
    );
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&token).expect("header"),
    );
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    headers.insert(header::USER_AGENT, HeaderValue::from_static("bench"));
    headers.insert("x-tenant", HeaderValue::from_static("acme"));
    let who = identity();

    let groups = [
        (
            "one_rule",
            "/tenants/acme/reports/2024",
            [
                ("plain", one_rule(false)),
                ("five_conditions", one_rule(true)),
            ],
        ),
        (
            "rules_1000",
            "/private/acme/reports/2024",
            [
                ("plain", many_rules(false)),
                ("conditions", many_rules(true)),
            ],
        ),
    ];
    for (group_name, path, configs) in groups {
        let uri: Uri = path.parse().expect("uri");
        let mut group = c.benchmark_group(group_name);
        for (name, text) in configs {
            let engine = engine(&text, &format!("{group_name}/{name}"));
            let decision = decide(&engine, &uri, &headers, &who);
            assert!(
                matches!(decision.verdict, Verdict::Allow(Some(_))),
                "{group_name}/{name}: {:?}",
                decision.verdict
            );
            let rule = decision.rule.expect("a rule");
            let want = if name == "plain" { 0 } else { FIVE.len() };
            assert_eq!(
                rule.conditions.as_ref().map_or(0, |c| c.items.len()),
                want,
                "{group_name}/{name}"
            );
            group.bench_function(name, |b| {
                b.iter(|| decide(&engine, black_box(&uri), &headers, &who))
            });
        }
        group.finish();
    }
    judge_only(c, &who);
}

/// The five conditions judged alone, over an input built once: the evaluator's share.
fn judge_only(c: &mut Criterion<ThreadCpuTime>, who: &Identity) {
    let engine = engine(&one_rule(true), "judge_only");
    let rule = &engine.config().rules.rules()[0];
    let conditions = rule.conditions.as_ref().expect("conditions");
    let path = "/tenants/acme/reports/2024";
    let params = rule.captures.values(path);
    let headers = [("x-tenant".to_owned(), "acme".to_owned())];
    let input = Input {
        identity: Some(who),
        method: "GET",
        path,
        host: "",
        params: &params,
        headers: &headers,
        query: "",
        client: "10.1.2.3".parse().expect("ip"),
        now: 0,
    };
    assert_eq!(conditions.judge(&input), Ok(()));
    let mut group = c.benchmark_group("one_rule");
    group.bench_function("judge_only", |b| {
        b.iter(|| conditions.judge(black_box(&input)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = cputime::criterion();
    targets = bench
}
criterion_main!(benches);
