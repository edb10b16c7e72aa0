//! A rule's `require`: `"authenticated"`, or a table of roles, scopes and how the user must
//! have signed in (`acr`, `max_age`; RFC 9470).

use toml::Spanned;

use super::error::Issues;
use super::raw::{RawRequire, RawRequireTable};
use crate::rules::{Requirement, Schemes};

type Span = std::ops::Range<usize>;

/// The requirement of rule `key`, or `None` after recording what is wrong.
pub(super) fn requirement(
    key: &str,
    require: Spanned<RawRequire>,
    issues: &mut Issues<'_>,
) -> Option<Requirement> {
    let span = require.span();
    let key = format!("{key}.require");
    match require.into_inner() {
        RawRequire::Word(w) if w == "authenticated" => Some(Requirement::default()),
        RawRequire::Word(w) => {
            issues.add(
                key,
                span,
                format!("`{w}`: expected `authenticated` or a table of roles/scopes"),
            );
            None
        }
        RawRequire::Table(table) => table_requirement(&key, span, table, issues),
    }
}

fn table_requirement(
    key: &str,
    span: Span,
    table: RawRequireTable,
    issues: &mut Issues<'_>,
) -> Option<Requirement> {
    if let Some(unknown) = table.unknown.keys().next() {
        let expected = "expected `roles`, `scopes`, `acr` or `max_age`";
        issues.add(key, span, format!("unknown key `{unknown}`: {expected}"));
        return None;
    }
    let acr = match table.acr {
        Some(value) => acr(key, span.clone(), &value, issues)?,
        None => Vec::new(),
    };
    let max_age = match table.max_age {
        Some(value) => Some(max_age(key, span.clone(), &value, issues)?),
        None => None,
    };
    let need = Requirement {
        roles: table.roles,
        scopes: table.scopes,
        acr,
        max_age,
    };
    if need == Requirement::default() {
        issues.add(
            key,
            span,
            "name at least one role, scope, `acr` or `max_age`",
        );
        return None;
    }
    Some(need)
}

/// A non-empty list of values that can travel space-separated in `acr_values`, quoted in a
/// challenge and unescaped in a query: visible ASCII without `"` and `\`.
fn acr(key: &str, span: Span, value: &toml::Value, issues: &mut Issues<'_>) -> Option<Vec<String>> {
    let key = format!("{key}.acr");
    let Some(items) = value.as_array() else {
        issues.add(key, span, "must be a list of acr values, like `[\"mfa\"]`");
        return None;
    };
    if items.is_empty() {
        issues.add(key, span, "name at least one acr value, or leave `acr` out");
        return None;
    }
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item.as_str() {
            Some(s) if valid(s) => out.push(s.to_owned()),
            _ => {
                let why = format!(
                    "an acr value is a non-empty string of visible ASCII, without spaces, `\"` or `\\`, not {}",
                    shown(item)
                );
                issues.add(key, span, why);
                return None;
            }
        }
    }
    Some(out)
}

fn max_age(key: &str, span: Span, value: &toml::Value, issues: &mut Issues<'_>) -> Option<u64> {
    let seconds = value.as_integer().and_then(|n| u64::try_from(n).ok());
    match seconds {
        Some(n) if n > 0 => Some(n),
        _ => {
            let why = format!(
                "must be a positive whole number of seconds, not {}",
                shown(value)
            );
            issues.add(format!("{key}.max_age"), span, why);
            None
        }
    }
}

/// `acr` and `max_age` are judged from what a JWT, an introspection answer or an OpenID
/// Connect sign-in tells (`acr`, `auth_time`). Basic, API keys and password sessions tell neither, so a rule that
/// accepts only those could never let anyone in: refused at load rather than at every request.
pub(super) fn check_step_up(
    key: &str,
    span: Span,
    need: &Requirement,
    schemes: Schemes,
    oidc: bool,
    issues: &mut Issues<'_>,
) -> bool {
    if !need.steps_up() || schemes.jwt || schemes.introspection || (schemes.session && oidc) {
        return true;
    }
    let why = "`acr` and `max_age` need a JWT, an introspected token or an OpenID Connect \
               sign-in: accept `jwt`, `introspection` (or `session` with an `[[authn.oidc]]` \
               provider)";
    issues.add(format!("{key}.require"), span, why);
    false
}

/// A value as the file spells it, for messages.
fn shown(value: &toml::Value) -> String {
    use toml::Value;
    match value {
        Value::String(s) => format!("`{s:?}`"),
        Value::Integer(n) => format!("`{n}`"),
        Value::Float(f) => format!("`{f}`"),
        Value::Boolean(b) => format!("`{b}`"),
        Value::Datetime(d) => format!("`{d}`"),
        Value::Array(_) => "a list".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    }
}
