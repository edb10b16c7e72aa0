//! Rule conditions at load: `[policy.claims]` declares the claims conditions may read, each
//! rule's `when` lists Cedar expressions. warden derives a Cedar schema from the
//! configuration (one action per set of named path segments, which it puts in
//! `context.params`), lets Cedar parse and type-check every condition against it, and
//! compiles what Cedar accepted. Any problem is a config error at the condition's line.

use std::ops::Range;
use std::sync::Arc;

use cedar_policy::{Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use serde::Deserialize;
use toml::Spanned;

use super::error::Issues;
use crate::policy::expr::{Expr, Var};
use crate::policy::{Condition, Conditions, Shape};
use crate::rules::{Access, Rule};

/// `[policy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Claim name → Cedar type (`"String"`, `"Set<String>"`, …) or a table of them.
    #[serde(default)]
    pub claims: toml::Table,
}

/// A rule's `when`, as written.
pub type RawWhen = Option<Spanned<Vec<Spanned<String>>>>;

/// What conditions add to a configuration.
#[derive(Debug, Default)]
pub(super) struct Compiled {
    /// The header names conditions read, lowercase.
    pub headers: Vec<String>,
}

/// Compiles every rule's `when` into its `conditions`; `None` after recording problems.
pub(super) fn attach(
    rules: &mut [Rule],
    whens: Vec<RawWhen>,
    policy: Option<Spanned<RawPolicy>>,
    issues: &mut Issues<'_>,
) -> Option<Compiled> {
    let span = policy.as_ref().map_or(0..0, Spanned::span);
    let raw = policy.map(Spanned::into_inner).unwrap_or_default();
    let (shapes, claims_type) = claims(&raw.claims, "policy.claims", span.clone(), issues)?;
    let shapes = Arc::new(shapes);
    let mut written = Vec::new();
    for (i, when) in whens.into_iter().enumerate() {
        let Some(when) = when else { continue };
        let key = format!("rule[{i}].when");
        if when.get_ref().is_empty() {
            issues.add(
                key,
                when.span(),
                "name at least one condition, or leave `when` out",
            );
            return None;
        }
        written.push((i, when.into_inner()));
    }
    if written.is_empty() {
        return Some(Compiled::default());
    }
    let validator = Validator::new(schema(rules, &written, &claims_type, span, issues)?);
    // Parsed one by one (errors are per condition), validated together: one pass of the
    // validator over every condition, whatever the number of rules.
    let mut parsed = Vec::new();
    let mut ok = true;
    for (i, when) in written {
        for (j, text) in when.into_iter().enumerate() {
            let origin = format!("rule[{i}].when[{j}]");
            match parse(&rules[i], &origin, text.get_ref()) {
                Ok(policy) => parsed.push((i, origin, text, policy)),
                Err(why) => {
                    issues.add(origin, text.span(), why);
                    ok = false;
                }
            }
        }
    }
    let refused = validate(&validator, &parsed);
    let mut headers = Vec::new();
    let mut items: Vec<Vec<Condition>> = vec![Vec::new(); rules.len()];
    for (i, origin, text, policy) in parsed {
        let compiled = match refused.iter().find(|(id, _)| *id == origin) {
            Some((_, why)) => Err(why.clone()),
            None => compile(&policy.policy)
                .and_then(|expr| check_reads(&rules[i], &expr, &mut headers).map(|()| expr)),
        };
        match compiled {
            Ok(expr) => items[i].push(Condition::new(origin, text.into_inner(), expr)),
            Err(why) => {
                issues.add(origin, text.span(), why);
                ok = false;
            }
        }
    }
    for (rule, items) in rules.iter_mut().zip(items) {
        if !items.is_empty() {
            rule.conditions = Some(Arc::new(Conditions::new(items, shapes.clone())));
        }
    }
    ok.then_some(Compiled { headers })
}

/// The Cedar action a rule's conditions are checked under: one per set of named path
/// segments (Cedar checks each condition against every action of the schema, so one action
/// per rule would make loading quadratic in the number of rules).
fn action(rule: &Rule) -> String {
    let names: Vec<&str> = rule.captures.names().collect();
    quoted(&format!("params:{}", names.join(",")))
}

/// The declared claims as shapes, and as a Cedar record type.
fn claims(
    table: &toml::Table,
    key: &str,
    span: Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<(Vec<(String, Shape)>, String)> {
    let mut shapes = Vec::new();
    let mut fields = Vec::new();
    for (name, value) in table {
        let (shape, ty) = match value {
            toml::Value::String(ty) if cedar_type(ty) => (Shape::Value, ty.clone()),
            toml::Value::Table(inner) => {
                let (inner, ty) = claims(inner, &format!("{key}.{name}"), span.clone(), issues)?;
                (Shape::Record(inner), ty)
            }
            _ => {
                let why = "a claim's type is `String`, `Long`, `Bool`, `Set<…>` of one of them, \
                           or a table of claims";
                issues.add(format!("{key}.{name}"), span, why);
                return None;
            }
        };
        fields.push(format!("{}: {ty}", quoted(name)));
        shapes.push((name.clone(), shape));
    }
    Some((shapes, format!("{{ {} }}", fields.join(", "))))
}

/// The Cedar types a claim may have.
fn cedar_type(ty: &str) -> bool {
    match ty.strip_prefix("Set<").and_then(|t| t.strip_suffix('>')) {
        Some(inner) => cedar_type(inner),
        // No `ipaddr`: a token carries addresses as strings, and a string is not an ipaddr.
        None => matches!(ty, "String" | "Long" | "Bool"),
    }
}

/// A Cedar string literal (the names come from the config; escapes keep them literal).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The schema: the identity, the request's entities, and one action per rule that has
/// conditions, whose context holds that rule's named path segments.
fn schema(
    rules: &[Rule],
    written: &[(usize, Vec<Spanned<String>>)],
    claims_type: &str,
    span: Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<Schema> {
    let mut text = format!(
        "namespace Warden {{
  entity Identity = {{ subject: String, roles: Set<String>, scopes: Set<String>, method: String,
    acr?: String, auth_time?: Long, claims: {claims_type} }};
  entity Headers tags String;
  entity Query tags String;
  entity Request;
"
    );
    let mut declared: Vec<String> = Vec::new();
    for (i, _) in written {
        let rule = &rules[*i];
        let action = action(rule);
        if declared.contains(&action) {
            continue;
        }
        let params: Vec<String> = (rule.captures.names())
            .map(|n| format!("{n}: String"))
            .collect();
        text.push_str(&format!(
            "  action {action} appliesTo {{ principal: [Identity], resource: [Request], context: {{
    method: String, path: String, host: String, params: {{ {} }}, client: ipaddr,
    now: Long, hour: Long, weekday: Long, headers: Headers, query: Query }} }};\n",
            params.join(", ")
        ));
        declared.push(action);
    }
    text.push('}');
    match Schema::from_cedarschema_str(&text) {
        Ok((schema, _warnings)) => Some(schema),
        Err(e) => {
            issues.add("policy", span, format!("the derived Cedar schema: {e}"));
            None
        }
    }
}

/// A condition as a Cedar policy of its rule's action, and where the condition starts in it.
struct Parsed {
    policy: Policy,
    head: usize,
    len: usize,
}

impl Parsed {
    /// ` (at column N of the condition)` when the diagnostic points inside the condition.
    fn at(&self, d: &dyn Diagnostic) -> String {
        at(d, self.head, self.len)
    }
}

fn at(d: &dyn Diagnostic, head: usize, len: usize) -> String {
    let offset = d.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    match offset {
        Some(o) if o >= head && o - head <= len => {
            format!(" (at column {} of the condition)", o - head + 1)
        }
        _ => String::new(),
    }
}

/// Parses one condition of `rule` as `permit(…action…) when { condition };`.
fn parse(rule: &Rule, origin: &str, text: &str) -> Result<Parsed, String> {
    let head = format!(
        "permit(principal, action == Warden::Action::{}, resource) when {{ ",
        action(rule)
    );
    let source = format!("{head}{text} }};");
    Policy::parse(Some(PolicyId::new(origin)), &source)
        .map(|policy| Parsed {
            policy,
            head: head.len(),
            len: text.len(),
        })
        .map_err(|e| {
            format!(
                "not a Cedar condition: {e}{}",
                at(&e, head.len(), text.len())
            )
        })
}

/// Type-checks every parsed condition at once: the first problem of each refused one.
fn validate(
    validator: &Validator,
    parsed: &[(usize, String, Spanned<String>, Parsed)],
) -> Vec<(String, String)> {
    let mut set = PolicySet::new();
    for (_, _, _, p) in parsed {
        if let Err(e) = set.add(p.policy.clone()) {
            return vec![(p.policy.id().to_string(), e.to_string())];
        }
    }
    let result = validator.validate(&set, ValidationMode::Strict);
    let mut refused: Vec<(String, String)> = Vec::new();
    for e in result.validation_errors() {
        let id = e.policy_id().to_string();
        if refused.iter().any(|(r, _)| *r == id) {
            continue;
        }
        let located = parsed.iter().find(|(_, o, _, _)| *o == id);
        let at = located.map(|(_, _, _, p)| p.at(e)).unwrap_or_default();
        refused.push((id, format!("{e}{at}")));
    }
    refused
}

/// The one `when` body of a validated condition, compiled.
fn compile(policy: &Policy) -> Result<Expr, String> {
    let est = policy.to_json().map_err(|e| e.to_string())?;
    let conditions = est.get("conditions").and_then(|c| c.as_array());
    let body = match conditions.map(Vec::as_slice) {
        Some([only]) if only.get("kind").and_then(|k| k.as_str()) == Some("when") => {
            only.get("body")
        }
        _ => None,
    };
    let body = body.ok_or("a condition is one Cedar expression")?;
    Expr::compile(body).map_err(|e| format!("warden does not evaluate {e}"))
}

/// Headers that carry secrets: never handed to a condition.
const CREDENTIALS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// What a condition may read, checked against its rule: an `allow = "anyone"` rule has no
/// identity to read; headers are named by lowercase literals, so only those are read from
/// each request.
fn check_reads(rule: &Rule, expr: &Expr, headers: &mut Vec<String>) -> Result<(), String> {
    if matches!(rule.access, Access::Anyone) && expr.uses_principal() {
        return Err("reads `principal`, but the rule lets anyone in: use `require`".into());
    }
    let mut problem = None;
    expr.visit(&mut |e| {
        let (Expr::HasTag(on, key) | Expr::GetTag(on, key)) = e else {
            return;
        };
        if !matches!(on.as_ref(), Expr::Attr(v, a) if **v == Expr::Var(Var::Context) && a == "headers")
        {
            return;
        }
        match key.as_ref() {
            Expr::Str(name) if CREDENTIALS.contains(&name.as_str()) => {
                problem = Some("conditions cannot read credential headers");
            }
            Expr::Str(name)
                if http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                    && !name.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                if !headers.contains(name) {
                    headers.push(name.clone());
                }
            }
            _ => {
                problem = Some(
                    "name headers with lowercase string literals, like `context.headers.getTag(\"x-tenant\")`",
                )
            }
        }
    });
    match problem {
        Some(why) => Err(why.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_types_are_cedar_types() {
        for ok in ["String", "Long", "Bool", "Set<String>", "Set<Set<Long>>"] {
            assert!(cedar_type(ok), "{ok}");
        }
        for bad in [
            "string",
            "Set<>",
            "ipaddr",
            "Record",
            "String }; entity X {",
            "Set<String",
        ] {
            assert!(!cedar_type(bad), "{bad}");
        }
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
    }
}
