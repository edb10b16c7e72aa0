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

/// One random identity and request.
#[derive(Debug, Clone)]
struct Case {
    identity: Identity,
    method: &'static str,
    host: &'static str,
    path: String,
    tenant: &'static str,
    item: &'static str,
    headers: Vec<(String, String)>,
    query: String,
    client: IpAddr,
    now: u64,
}

impl Case {
    fn judge(&self, conditions: &Conditions) -> Result<bool, String> {
        let params = [("tenant", self.tenant), ("item", self.item)];
        let input = Input {
            identity: Some(&self.identity),
            method: self.method,
            path: &self.path,
            host: self.host,
            params: &params,
            headers: &self.headers,
            query: &self.query,
            client: self.client,
            now: self.now,
        };
        match conditions.judge(&input) {
            Ok(()) => Ok(true),
            Err(Unmet::Failed { .. }) => Ok(false),
            Err(Unmet::Error { message, .. }) => Err(message),
        }
    }
}

const WORDS: [&str; 10] = [
    "acme", "globex", "", "ACME", "4é", "*a", "a*e", "42", "west", "admin",
];

fn word() -> impl Strategy<Value = &'static str> {
    select(&WORDS[..])
}

/// Any JSON a token may carry where a claim is expected, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..8).prop_map(Value::from),
        select(&[i64::MAX, i64::MIN, i64::MAX - 1, 1_000_000_000_000][..]).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        select(&[2.5, 3.0, -0.0, 1e300][..])
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        word().prop_map(Value::from),
        select(&["mfa", "pwd", "otp", "admin"][..]).prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(&["id", "region", "zone", "x"][..]), inner), 0..4)
                .prop_map(|fields| Value::Object(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

/// Mostly of the declared type, sometimes anything.
fn typed(right: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Value> {
    prop_oneof![3 => right, 1 => any_json()]
}

fn long() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-3i64..8).prop_map(Value::from),
        1 => select(&[i64::MAX, i64::MIN, 1_700_000_000][..]).prop_map(Value::from),
    ]
}

fn amr() -> impl Strategy<Value = Value> {
    prop::collection::vec(select(&["pwd", "mfa", "otp", "admin", "acme"][..]), 0..4)
        .prop_map(|items| Value::Array(items.into_iter().map(Value::from).collect()))
}

fn region() -> impl Strategy<Value = Value> {
    select(&["eu", "us"][..]).prop_map(Value::from)
}

/// An object with the given members, each present most of the time.
fn object(
    members: Vec<(&'static str, BoxedStrategy<Value>)>,
) -> impl Strategy<Value = Value> + 'static {
    members
        .into_iter()
        .map(|(name, s)| prop::option::weighted(0.85, s).prop_map(move |v| (name, v)))
        .collect::<Vec<_>>()
        .prop_map(|fields| {
            let map: Map<String, Value> = (fields.into_iter())
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect();
            Value::Object(map)
        })
}

fn org() -> impl Strategy<Value = Value> {
    let geo = object(vec![
        ("zone", typed(word().prop_map(Value::from)).boxed()),
        ("x", any_json().boxed()),
    ]);
    object(vec![
        ("id", typed(long()).boxed()),
        ("region", typed(region()).boxed()),
        ("geo", typed(geo).boxed()),
        ("extra", any_json().boxed()),
    ])
}

fn claims() -> impl Strategy<Value = Option<Value>> {
    let all = object(vec![
        ("tenant", typed(word().prop_map(Value::from)).boxed()),
        ("amr", typed(amr()).boxed()),
        ("level", typed(long()).boxed()),
        ("staff", typed(any::<bool>().prop_map(Value::Bool)).boxed()),
        ("org", typed(org()).boxed()),
        ("undeclared", any_json().boxed()),
    ]);
    prop::option::weighted(0.9, all)
}

const METHODS: [AuthMethod; 6] = [
    AuthMethod::Jwt,
    AuthMethod::Basic,
    AuthMethod::Session,
    AuthMethod::ApiKey,
    AuthMethod::Oidc,
    AuthMethod::Introspection,
];

fn identity() -> impl Strategy<Value = Identity> {
    let names = |pool: &'static [&'static str]| {
        prop::collection::vec(select(pool).prop_map(str::to_owned), 0..4)
    };
    let auth_time = prop_oneof![
        0u64..2_000_000_000,
        (i64::MAX as u64 - 400)..=(i64::MAX as u64)
    ];
    (
        select(&["alice", "bob", "", "a*e", "ané"][..]),
        names(&["admin", "billing", "ops", "mfa"]),
        names(&["read", "write", "reports:read"]),
        select(&METHODS[..]),
        prop::option::of(select(&["mfa", "pwd", "urn:x"][..])),
        prop::option::of(auth_time),
        claims(),
    )
        .prop_map(
            |(subject, roles, scopes, method, acr, auth_time, claims)| Identity {
                subject: subject.to_owned(),
                roles,
                scopes,
                method,
                acr: acr.map(str::to_owned),
                auth_time,
                claims: claims.and_then(|c| c.as_object().cloned()).map(Arc::new),
            },
        )
}

fn client() -> impl Strategy<Value = IpAddr> {
    let v4 = [
        "10.1.2.3",
        "10.255.255.255",
        "11.0.0.0",
        "127.0.0.1",
        "127.255.0.9",
        "224.0.0.1",
        "239.1.2.3",
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
    ];
    let v6 = [
        "::1",
        "::",
        "ff02::1",
        "ff00::",
        "2001:db8::1",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
        "fe80::1",
        "::ffff:10.1.2.3",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
    ];
    let known: Vec<IpAddr> = v4.iter().chain(&v6).map(|s| s.parse().unwrap()).collect();
    prop_oneof![
        3 => select(known),
        1 => any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        1 => any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

/// A raw query string: names and values plain, percent-encoded or with `+`, repeated,
/// without `=`, with empty pieces.
fn query() -> impl Strategy<Value = String> {
    let key = select(
        &[
            "format", "form%61t", "tenant", "a+b", "a%20b", "x", "%C3%A9", "", "acme", "%zz",
        ][..],
    );
    let value = select(&["csv", "tsv", "%63sv", "pdf", "acme", "1", "", "a+b", "%2A"][..]);
    let piece = prop_oneof![
        3 => (key.clone(), value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key.prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.join("&"))
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = ["x-tenant", "x-level", "x-empty", "x-other"];
    prop::collection::vec(prop::option::of(word()), names.len()).prop_map(move |values| {
        (names.iter().zip(values))
            .filter_map(|(n, v)| Some(((*n).to_owned(), v?.to_owned())))
            .collect()
    })
}

fn case() -> impl Strategy<Value = Case> {
    let now = prop_oneof![
        0u64..4_000_000_000,
        1_700_000_000u64..1_701_000_000,
        Just(i64::MAX as u64),
    ];
    let request = (
        select(&["GET", "POST", "DELETE", "HEAD", "get"][..]),
        select(&["api.example", "www.example.com", "", "example", "é.example"][..]),
        (word(), word(), any::<bool>()),
        headers(),
        query(),
        client(),
        now,
    );
    (identity(), request).prop_map(
        |(identity, (method, host, (tenant, item, long_path), headers, query, client, now))| {
            let path = if long_path {
                format!("/c1/{tenant}/items/{item}")
            } else {
                format!("/t/{tenant}")
            };
            Case {
                identity,
                method,
                host,
                path,
                tenant,
                item,
                headers,
                query,
                client,
                now,
            }
        },
    )
}

// ---- The Cedar side, from the data model -------------------------------------------------

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

fn strings(items: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(items.iter().map(|s| string(s)))
}

fn record(fields: Vec<(String, RestrictedExpression)>) -> RestrictedExpression {
    RestrictedExpression::new_record(fields).unwrap()
}

/// A claim as Cedar data: `null` and numbers that are not Longs are absent, arrays are
/// sets, a declared record keeps its declared fields, any other object all its members.
fn cedar_json(v: &Value, ty: Ty) -> Option<RestrictedExpression> {
    Some(match (v, ty) {
        (Value::Null, _) => return None,
        (Value::Bool(b), _) => RestrictedExpression::new_bool(*b),
        (Value::Number(n), _) => RestrictedExpression::new_long(n.as_i64()?),
        (Value::String(s), _) => string(s),
        (Value::Array(items), _) => {
            RestrictedExpression::new_set(items.iter().filter_map(|i| cedar_json(i, Ty::Value)))
        }
        (Value::Object(m), Ty::Record(declared)) => record(
            (declared.iter())
                .filter_map(|(n, t)| Some(((*n).to_owned(), cedar_json(m.get(*n)?, *t)?)))
                .collect(),
        ),
        (Value::Object(m), Ty::Value) => record(
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), cedar_json(v, Ty::Value)?)))
                .collect(),
        ),
    })
}

/// An address as Cedar's `ip()` reads it: IPv6 in full hex groups, since Cedar refuses the
/// dotted form of an IPv4-mapped address.
fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let groups: Vec<String> = a.segments().iter().map(|g| format!("{g:x}")).collect();
            groups.join(":")
        }
    }
}

/// The request as Cedar entities and a context (the action is per condition).
struct CedarCase {
    principal: EntityUid,
    resource: EntityUid,
    entities: Entities,
    context: Vec<(String, RestrictedExpression)>,
}

impl CedarCase {
    fn new(c: &Case) -> Self {
        let id = &c.identity;
        let principal = uid("Warden::Identity", &id.subject);
        let headers = uid("Warden::Headers", "");
        let query = uid("Warden::Query", "");
        let resource = uid("Warden::Request", "");
        let empty = serde_json::Map::new();
        let token = id.claims.as_deref().unwrap_or(&empty);
        let claims = cedar_json(&Value::Object(token.clone()), Ty::Record(CLAIMS)).unwrap();
        let mut attrs = vec![
            ("subject".to_owned(), string(&id.subject)),
            ("roles".to_owned(), strings(&id.roles)),
            ("scopes".to_owned(), strings(&id.scopes)),
            ("method".to_owned(), string(id.method.as_str())),
            ("claims".to_owned(), claims),
        ];
        if let Some(acr) = &id.acr {
            attrs.push(("acr".to_owned(), string(acr)));
        }
        if let Some(t) = id.auth_time {
            let t = i64::try_from(t).unwrap();
            attrs.push(("auth_time".to_owned(), RestrictedExpression::new_long(t)));
        }
        let header_tags = c.headers.iter().map(|(k, v)| (k.clone(), string(v)));
        let mut query_tags: Vec<(String, RestrictedExpression)> = Vec::new();
        for (k, v) in form_urlencoded::parse(c.query.as_bytes()) {
            if !query_tags.iter().any(|(n, _)| *n == k) {
                query_tags.push((k.into_owned(), string(&v)));
            }
        }
        let none = || std::iter::empty::<(String, RestrictedExpression)>();
        let entities = Entities::from_entities(
            [
                Entity::new_with_tags(principal.clone(), attrs, [], none()).unwrap(),
                Entity::new_with_tags(headers.clone(), none(), [], header_tags).unwrap(),
                Entity::new_with_tags(query.clone(), none(), [], query_tags).unwrap(),
                Entity::new_with_tags(resource.clone(), none(), [], none()).unwrap(),
            ],
            None,
        )
        .unwrap();
        let now = i64::try_from(c.now).unwrap();
        let long = RestrictedExpression::new_long;
        let params = record(vec![
            ("tenant".to_owned(), string(c.tenant)),
            ("item".to_owned(), string(c.item)),
        ]);
        let context = vec![
            ("method".to_owned(), string(c.method)),
            ("path".to_owned(), string(&c.path)),
            ("host".to_owned(), string(c.host)),
            ("params".to_owned(), params),
            (
                "client".to_owned(),
                RestrictedExpression::new_ip(ip_text(c.client)),
            ),
            ("now".to_owned(), long(now)),
            ("hour".to_owned(), long(now / 3600 % 24)),
            ("weekday".to_owned(), long((now / 86_400 + 3) % 7 + 1)),
            (
                "headers".to_owned(),
                RestrictedExpression::new_entity_uid(headers),
            ),
            (
                "query".to_owned(),
                RestrictedExpression::new_entity_uid(query),
            ),
        ];
        Self {
            principal,
            resource,
            entities,
            context,
        }
    }

    /// Cedar's verdict on `expr` under the rule `action`.
    fn eval(&self, action: &str, expr: &Expression) -> Result<bool, String> {
        let context = Context::from_pairs(self.context.clone()).unwrap();
        let request = Request::new(
            self.principal.clone(),
            uid("Warden::Action", action),
            self.resource.clone(),
            context,
            None,
        )
        .unwrap();
        match eval_expression(&request, &self.entities, expr) {
            Ok(EvalResult::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("not a boolean: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

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
