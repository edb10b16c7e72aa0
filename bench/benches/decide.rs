//! warden's engine on a 1 000-rule configuration, signature checks excluded: `facts::read`,
//! `Engine::begin`, `Engine::finish` with an already-judged identity (what the token cache
//! hands back), and separately `render`.
//!
//! Measured in thread CPU time (benches/cputime.rs), so other work on the machine does not
//! inflate it. `cargo bench --bench decide` (run.py runs it pinned with `taskset -c 0`).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

mod cputime;
use cputime::ThreadCpuTime;
use http::{HeaderMap, HeaderValue, Method, Uri, header};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Authn, Config, Decision, Engine, Flavour, Identity, RenderContext, Step, render,
};

const RULES: usize = 1000;

/// 1 000 rules of the shapes a large deployment has: per-service prefixes with roles, some
/// limited to methods, some with a `*` segment, some open; `/private/**` last.
fn config() -> String {
    let mut s = String::from(
        r#"version = 1
[server]
listen = "127.0.0.1:4180"
realm = "bench"
[authn.jwt]
jwks_file = "jwks.json"
issuer = "https://idp.bench"
audience = "api"
[authn.basic]
[authn.api_key]
[network]
trusted_proxies = ["127.0.0.1/32"]
"#,
    );
    for i in 0..RULES - 1 {
        let _ = match i % 4 {
            0 => write!(s, "[[rule]]\nname = \"svc-{i}\"\npath = \"/svc-{i}/**\"\nrequire = {{ roles = [\"role-{i}\", \"admin\"] }}\n"),
            1 => write!(s, "[[rule]]\nname = \"svc-{i}-write\"\npath = \"/svc-{i}/items/**\"\nmethods = [\"POST\", \"PUT\"]\nrequire = {{ scopes = [\"svc-{i}:write\"] }}\n"),
            2 => write!(s, "[[rule]]\nname = \"svc-{i}-user\"\npath = \"/svc-{i}/users/*/profile\"\nrequire = \"authenticated\"\n"),
            _ => write!(s, "[[rule]]\nname = \"svc-{i}-public\"\npath = \"/svc-{i}/public/**\"\nallow = \"anyone\"\n"),
        };
    }
    s.push_str("[[rule]]\nname = \"private\"\npath = \"/private/**\"\nrequire = \"authenticated\"\n");
    s
}

fn identity() -> Identity {
    Identity {
        subject: "bench".into(),
        roles: vec!["admin".into()],
        scopes: Vec::new(),
        method: AuthMethod::Jwt,
        acr: None,
        auth_time: None,
        claims: None,
    }
}

/// read + begin + finish: the decision without rendering it.
fn decide(engine: &Engine, uri: &Uri, headers: &HeaderMap) -> (warden_core::RequestFacts, Decision) {
    let parts = RequestParts {
        method: &Method::GET,
        uri,
        headers,
        peer: "192.0.2.1".parse().expect("ip"),
        tls: false,
    };
    let facts = facts::read(parts, engine.config(), ForwardSource::Forwarded);
    let decision = match engine.begin(&facts, 0) {
        Step::Decided(d) => d,
        Step::Authenticate(pending) => engine.finish(pending, Authn::Authenticated(identity()), &facts, 0),
    };
    (facts, decision)
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let engine = Engine::new(Config::parse(&config(), Path::new("/")).expect("config"));
    assert_eq!(engine.config().rules.rules().len(), RULES, "rule count");
    let mut headers = HeaderMap::new();
    // A realistic token length (the benchmark tokens are about 330 bytes); never verified here.
    let token = format!("Bearer eyJ{}.eyJ{}.{}", "a".repeat(40), "b".repeat(200), "c".repeat(86));
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&token).expect("header"));
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    headers.insert(header::USER_AGENT, HeaderValue::from_static("bench"));

    let cases: [(&str, &str, u16); 4] = [
        ("last_rule_allow", "/private/reports/2024", 200),
        ("rule_500_allow", "/svc-500/orders/1", 200),
        ("no_rule_403", "/elsewhere/x", 403),
        ("first_rule_allow", "/svc-0/a/b/c", 200),
    ];
    let mut group = c.benchmark_group("decide_1000_rules");
    for (name, path, status) in cases {
        let uri: Uri = path.parse().expect("uri");
        let (facts, decision) = decide(&engine, &uri, &headers);
        let ctx = RenderContext {
            config: engine.config(),
            facts: &facts,
            flavour: Flavour::Generic,
            decision_id: "0000000000000000",
        };
        assert_eq!(render(&decision, &ctx).status.as_u16(), status, "{name}");
        group.bench_function(name, |b| b.iter(|| decide(&engine, black_box(&uri), &headers)));
    }
    let uri: Uri = "/private/reports/2024".parse().expect("uri");
    group.bench_function("last_rule_allow_and_render", |b| {
        b.iter(|| {
            let (facts, decision) = decide(&engine, black_box(&uri), &headers);
            let ctx = RenderContext {
                config: engine.config(),
                facts: &facts,
                flavour: Flavour::Generic,
                decision_id: "0000000000000000",
            };
            render(&decision, &ctx)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = cputime::criterion();
    targets = bench
}
criterion_main!(benches);
