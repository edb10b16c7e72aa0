#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! warden's compiled conditions against Cedar's own evaluator. For random identities and
//! requests (claims of the right type, the wrong type, `null`, fractional, missing), every
//! condition of a corpus that uses each form warden compiles must come out the same both
//! ways: true, false, or an evaluation error. The Cedar side is built here from the data
//! model `policy/eval.rs` documents, not from warden's evaluator.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, EvalResult, Expression,
    Request, RestrictedExpression, eval_expression,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as Cases, TestRunner};
use serde_json::{Map, Number, Value};
use warden_core::policy::expr::{Arith, Cmp, Expr, IpTest, SetOp, Var};
use warden_core::policy::{Conditions, Input, Unmet};
use warden_core::{AuthMethod, Config, Identity};

/// Every form warden compiles, each condition one rule's only `when` entry. The rules' path
/// is `/c<i>/{tenant}/{item}`; the claims are those of [`CLAIMS`].
const CORPUS: &[&str] = &[
    // Comparisons, on claims that may hold anything.
    "principal.claims.tenant == context.params.tenant",
    r#"principal.claims.tenant != "acme""#,
    "principal.claims.level < 3",
    "principal.claims.level <= 3 && principal.claims.level > -2",
    r#"principal.claims.level >= 5 || principal.roles.contains("admin")"#,
    // Arithmetic, with overflow.
    "principal.claims.level + 1 > 3",
    "principal.claims.level - 10 < 0",
    "principal.claims.level * 1000000000000 > 0",
    "-principal.claims.level < 0",
    "context.now + principal.claims.level > 1700000000",
    "principal.claims.level > -9223372036854775808",
    "-(-principal.claims.level) == principal.claims.level",
    "principal.claims.level * -1 == -principal.claims.level",
    // Booleans: short-circuits, negation, conditionals, a Bool claim.
    r#"!principal.claims.amr.contains("mfa")"#,
    r#"context.method == "GET" && principal.claims.level > 0"#,
    r#"context.method == "GET" || principal.claims.level > 0"#,
    "principal.claims has staff && principal.claims.staff",
    r#"if context.method like "G*" then true else principal.claims.level == 3"#,
    "if principal.claims has level then principal.claims.level * 2 > 5 else principal.roles.isEmpty()",
    r#"if principal.claims.tenant == "acme" then principal.claims.level > 1 else principal.claims.level < 0"#,
    // Sets: claims, roles, scopes, literals.
    r#"principal.claims.amr.contains("mfa")"#,
    r#"principal.claims.amr.containsAll(["pwd", "mfa"])"#,
    r#"principal.claims.amr.containsAny(["otp", "mfa"])"#,
    "principal.claims.amr.isEmpty()",
    r#"principal.claims.amr == ["mfa", "pwd"]"#,
    "principal.claims.amr.containsAll(principal.roles)",
    "principal.roles.containsAny(principal.claims.amr)",
    "principal.claims.amr.contains(principal.claims.tenant)",
    "principal.roles.contains(principal.claims.tenant)",
    r#"principal.roles.containsAny(["admin", "billing"]) && principal.scopes.containsAll(["read"])"#,
    r#"principal.scopes.isEmpty() || principal.scopes.contains("write")"#,
    r#"principal.subject == "alice" || principal.roles == ["ops"]"#,
    "[principal.claims.level, 3].contains(3)",
    r#"[context.method, "HEAD"].contains("GET")"#,
    r#"["GET", "HEAD"].contains(context.method)"#,
    // Records: literals, the claims, the params, nested claims.
    r#"{a: context.method, b: [1, 2]} == {a: "GET", b: [2, 1]}"#,
    r#"{m: context.method}.m == "POST" || {m: context.method} has n"#,
    r#"context.params == {tenant: "acme", item: context.params.item}"#,
    r#"principal.claims.org == {id: 1, region: "eu", geo: {zone: "west"}}"#,
    r#"principal.claims.org.geo == {zone: "west"}"#,
    r#"principal.claims.org.region == "eu""#,
    "principal.claims.org.geo.zone == context.params.item",
    "principal.claims.org == principal.claims.org",
    "[principal.claims.org, principal.claims.org] == [principal.claims.org]",
    "principal.claims.amr == principal.claims.amr",
    "{a: principal.claims.level}.a > 1",
    "principal.claims.tenant == principal.claims.tenant",
    "principal.claims == principal.claims && principal.claims has tenant",
    // `has`, one attribute and a path.
    "principal.claims has tenant",
    "principal.claims has org.region",
    "principal.claims has org.geo.zone",
    "principal.claims has org && principal.claims.org has id && principal.claims.org.id > 0",
    r#"context has params && context.params has tenant && context.params.tenant != """#,
    // `like`, with wildcards, an escaped `*` and characters beyond ASCII.
    r#"context.path like "/c*/*/items/*" && !(context.path like "/t/*")"#,
    r#"context.host like "*.example""#,
    r#"context.params.item like "4*""#,
    r#"principal.subject like "a*e""#,
    r#"context.params.tenant like "*\**""#,
    r#"context.params.item like "*é""#,
    // Tags: headers (literal lowercase names) and the query (any name).
    r#"context.headers.hasTag("x-tenant") && context.headers.getTag("x-tenant") == principal.claims.tenant"#,
    r#"context.headers.hasTag("x-level")"#,
    r#"context.headers.hasTag("x-empty") && context.headers.getTag("x-empty") like "*""#,
    r#"context.query.hasTag("format") && context.query.getTag("format") like "*sv""#,
    r#"context.query.hasTag("a b") && context.query.getTag("a b") != "csv""#,
    r#"context.query.hasTag("é") || context.query.hasTag("")"#,
    "context.query.hasTag(principal.claims.tenant)",
    r#"context.query.hasTag(context.params.tenant) && context.query.getTag(context.params.tenant) != "1""#,
    // ipaddr.
    r#"context.client.isInRange(ip("10.0.0.0/8"))"#,
    r#"context.client.isInRange(ip("2001:db8::/32")) || context.client.isLoopback()"#,
    "context.client.isIpv4()",
    "context.client.isIpv6() && !context.client.isMulticast()",
    "context.client.isMulticast()",
    "context.client.isLoopback()",
    r#"context.client == ip("127.0.0.1") || context.client == ip("::1")"#,
    r#"ip("10.1.2.3/8").isInRange(ip("10.0.0.0/8")) && !ip("10.0.0.0/7").isInRange(ip("10.0.0.0/8"))"#,
    // The identity's optional attributes, and time.
    r#"principal has acr && principal.acr == "mfa""#,
    "principal has auth_time && context.now - principal.auth_time < 3600",
    "principal has auth_time && principal.auth_time + 300 > context.now",
    r#"principal.method == "jwt" || principal.method == "basic""#,
    "context.hour >= 8 && context.hour < 18 && context.weekday <= 5",
    "context.weekday == 7 || context.weekday == 1",
    "principal == principal && resource == resource && action == action",
];

/// The conditions of [`CORPUS`] that hold whatever the request.
const CONSTANT: [&str; 2] = [
    r#"ip("10.1.2.3/8").isInRange(ip("10.0.0.0/8")) && !ip("10.0.0.0/7").isInRange(ip("10.0.0.0/8"))"#,
    "principal == principal && resource == resource && action == action",
];

/// The `[policy.claims]` table, as warden reads it and as the Cedar side filters claims.
const CLAIMS_TOML: &str = r#"
[policy.claims]
tenant = "String"
amr = "Set<String>"
level = "Long"
staff = "Bool"
org = { id = "Long", region = "String", geo = { zone = "String" } }
"#;

/// A declared claim type: a record of declared fields, or any other Cedar type.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Value,
    Record(&'static [(&'static str, Ty)]),
}

const GEO: &[(&str, Ty)] = &[("zone", Ty::Value)];
const ORG: &[(&str, Ty)] = &[
    ("id", Ty::Value),
    ("region", Ty::Value),
    ("geo", Ty::Record(GEO)),
];
const CLAIMS: &[(&str, Ty)] = &[
    ("tenant", Ty::Value),
    ("amr", Ty::Value),
    ("level", Ty::Value),
    ("staff", Ty::Value),
    ("org", Ty::Record(ORG)),
];

fn config(rules: &[String]) -> Config {
    let mut text = String::from(
        "version = 1\n[server]\nlisten = \"127.0.0.1:4180\"\nrealm = \"example\"\n\
         [authn.jwt]\njwks_file = \"keys.json\"\nissuer = \"https://idp.example\"\naudience = \"api\"\n",
    );
    text.push_str(CLAIMS_TOML);
    for rule in rules {
        text.push_str(rule);
    }
    Config::parse(&text, Path::new("/")).unwrap_or_else(|e| panic!("{e}"))
}

#[path = "policy_cedar/cedar.rs"]
mod cedar;
#[path = "policy_cedar/inputs.rs"]
mod inputs;

use cedar::*;
use inputs::*;

// ---- The properties ----------------------------------------------------------------------

/// The corpus as one configuration, one rule per condition, with Cedar's parse of each.
fn corpus() -> (Config, Vec<Expression>) {
    let rules: Vec<String> = (CORPUS.iter().enumerate())
        .map(|(i, when)| {
            format!(
                "[[rule]]\nname = \"c{i}\"\npath = \"/c{i}/{{tenant}}/{{item}}\"\n\
                 require = \"authenticated\"\nwhen = ['{when}']\n"
            )
        })
        .collect();
    let exprs = CORPUS
        .iter()
        .map(|c| Expression::from_str(c).unwrap())
        .collect();
    (config(&rules), exprs)
}

fn conditions(config: &Config, i: usize) -> &Conditions {
    config.rules.rules()[i].conditions.as_deref().unwrap()
}

/// `n` cases, or as many as `PROPTEST_CASES` says.
fn cases(n: u32) -> Cases {
    match std::env::var_os("PROPTEST_CASES") {
        Some(_) => Cases::default(),
        None => Cases::with_cases(n),
    }
}

fn kind(outcome: &Result<bool, String>) -> usize {
    match outcome {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(_) => 2,
    }
}

#[test]
fn every_condition_agrees_with_cedar() {
    let (config, exprs) = corpus();
    let seen = RefCell::new(vec![[0u32; 3]; CORPUS.len()]);
    let mut runner = TestRunner::new(cases(256));
    let result = runner.run(&case(), |c| {
        let cedar = CedarCase::new(&c);
        for (i, text) in CORPUS.iter().enumerate() {
            let ours = c.judge(conditions(&config, i));
            let theirs = cedar.eval(&format!("c{i}"), &exprs[i]);
            prop_assert_eq!(
                kind(&ours),
                kind(&theirs),
                "condition `{}`: warden {:?}, Cedar {:?}",
                text,
                ours,
                theirs
            );
            seen.borrow_mut()[i][kind(&ours)] += 1;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Each condition must have come out more than one way, or it tested little.
    let seen = seen.into_inner();
    let mut constant = Vec::new();
    for (text, [t, f, e]) in CORPUS.iter().zip(&seen) {
        println!("{t:>4} true {f:>4} false {e:>4} error  {text}");
        let ways = [t, f, e].iter().filter(|n| ***n > 0).count();
        if ways < 2 && !CONSTANT.contains(text) {
            constant.push(text);
        }
    }
    assert!(constant.is_empty(), "came out one way only: {constant:?}");
}

/// What each compiled node is, for the coverage check below; a new form warden compiles
/// makes this match non-exhaustive, so the corpus is extended with it.
fn forms(e: &Expr, out: &mut Vec<String>) {
    e.visit(&mut |node| {
        let name = match node {
            Expr::Bool(_) => "Bool".into(),
            Expr::Long(_) => "Long".into(),
            Expr::Str(_) => "Str".into(),
            Expr::Ip(_) => "Ip".into(),
            Expr::Var(v) => format!("Var::{}", var(*v)),
            Expr::Attr(..) => "Attr".into(),
            Expr::Has(_, path) => format!("Has/{}", path.len().min(2)),
            Expr::HasTag(..) => "HasTag".into(),
            Expr::GetTag(..) => "GetTag".into(),
            Expr::Not(_) => "Not".into(),
            Expr::Neg(_) => "Neg".into(),
            Expr::And(..) => "And".into(),
            Expr::Or(..) => "Or".into(),
            Expr::Cmp(op, ..) => format!("Cmp::{}", cmp(*op)),
            Expr::Arith(op, ..) => format!("Arith::{}", arith(*op)),
            Expr::Set(op, ..) => format!("Set::{}", set_op(*op)),
            Expr::IsEmpty(_) => "IsEmpty".into(),
            Expr::Like(..) => "Like".into(),
            Expr::If(..) => "If".into(),
            Expr::SetLit(_) => "SetLit".into(),
            Expr::Record(_) => "Record".into(),
            Expr::InRange(..) => "InRange".into(),
            Expr::IpTest(t, _) => format!("IpTest::{}", ip_test(*t)),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    });
}

fn var(v: Var) -> &'static str {
    match v {
        Var::Principal => "Principal",
        Var::Action => "Action",
        Var::Resource => "Resource",
        Var::Context => "Context",
    }
}

fn cmp(op: Cmp) -> &'static str {
    match op {
        Cmp::Eq => "Eq",
        Cmp::Ne => "Ne",
        Cmp::Lt => "Lt",
        Cmp::Le => "Le",
        Cmp::Gt => "Gt",
        Cmp::Ge => "Ge",
    }
}

fn arith(op: Arith) -> &'static str {
    match op {
        Arith::Add => "Add",
        Arith::Sub => "Sub",
        Arith::Mul => "Mul",
    }
}

fn set_op(op: SetOp) -> &'static str {
    match op {
        SetOp::Contains => "Contains",
        SetOp::ContainsAll => "ContainsAll",
        SetOp::ContainsAny => "ContainsAny",
    }
}

fn ip_test(t: IpTest) -> &'static str {
    match t {
        IpTest::V4 => "V4",
        IpTest::V6 => "V6",
        IpTest::Loopback => "Loopback",
        IpTest::Multicast => "Multicast",
    }
}

#[test]
fn the_corpus_uses_every_form_warden_compiles() {
    let (config, _) = corpus();
    let mut found = Vec::new();
    for i in 0..CORPUS.len() {
        for c in &conditions(&config, i).items {
            forms(c.expr(), &mut found);
        }
    }
    let mut want: Vec<String> = [
        "Bool", "Long", "Str", "Ip", "Attr", "Has/1", "Has/2", "HasTag", "GetTag", "Not", "Neg",
        "And", "Or", "IsEmpty", "Like", "If", "SetLit", "Record", "InRange",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for v in [Var::Principal, Var::Action, Var::Resource, Var::Context] {
        want.push(format!("Var::{}", var(v)));
    }
    for op in [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge] {
        want.push(format!("Cmp::{}", cmp(op)));
    }
    for op in [Arith::Add, Arith::Sub, Arith::Mul] {
        want.push(format!("Arith::{}", arith(op)));
    }
    for op in [SetOp::Contains, SetOp::ContainsAll, SetOp::ContainsAny] {
        want.push(format!("Set::{}", set_op(op)));
    }
    for t in [IpTest::V4, IpTest::V6, IpTest::Loopback, IpTest::Multicast] {
        want.push(format!("IpTest::{}", ip_test(t)));
    }
    let missing: Vec<&String> = want.iter().filter(|w| !found.contains(w)).collect();
    assert!(missing.is_empty(), "the corpus lacks {missing:?}");
}
