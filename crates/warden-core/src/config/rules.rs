//! `[[rule]]` tables into typed rules.

use http::Method;
use toml::Spanned;

use super::error::Issues;
use super::policy::{self, RawPolicy, RawWhen};
use super::raw::{RawCors, RawRequire, RawRule};
use super::require::{check_step_up, requirement};
use crate::captures::Captures;
use crate::rules::{Access, Cors, Rule, RuleSet, Schemes, compile_pattern};

/// Converts every rule and compiles its conditions, recording each problem; `None` when any
/// rule is broken. `oidc`: an OpenID Connect provider signs browsers in, so sessions may
/// carry an `acr`. Also returns the header names conditions read.
pub(super) fn rules(
    raw: Vec<Spanned<RawRule>>,
    available: Schemes,
    oidc: bool,
    policy: Option<Spanned<RawPolicy>>,
    issues: &mut Issues<'_>,
) -> Option<(RuleSet, Vec<String>)> {
    let mut out = Vec::new();
    let mut whens: Vec<RawWhen> = Vec::new();
    let mut broken = false;
    for (i, rule) in raw.into_iter().enumerate() {
        let span = rule.span();
        let mut rule = rule.into_inner();
        whens.push(rule.when.take());
        match one_rule(&format!("rule[{i}]"), span, rule, available, oidc, issues) {
            Some(rule) => out.push(Rule { index: i, ..rule }),
            None => broken = true,
        }
    }
    if broken {
        return None;
    }
    let compiled = policy::attach(&mut out, whens, policy, issues)?;
    Some((RuleSet::new(out).ok()?, compiled.headers))
}

fn one_rule(
    key: &str,
    span: std::ops::Range<usize>,
    raw: RawRule,
    available: Schemes,
    oidc: bool,
    issues: &mut Issues<'_>,
) -> Option<Rule> {
    let (glob, captures) = match Captures::parse(raw.path.get_ref()) {
        Ok(parsed) => parsed,
        Err(e) => {
            issues.add(format!("{key}.path"), raw.path.span(), e.to_string());
            return None;
        }
    };
    let path_ok = glob.starts_with('/') && compile_pattern(&glob).is_ok();
    if !path_ok {
        issues.add(
            format!("{key}.path"),
            raw.path.span(),
            "must be a glob starting with `/`, like `/admin/**`",
        );
    }
    let methods = methods(key, raw.methods, issues);
    let require_span = raw.require.as_ref().map_or(span.clone(), Spanned::span);
    let access = access(key, span.clone(), raw.allow, raw.require, issues);
    let schemes = schemes(key, raw.authn, available, issues);
    if let (Some(Access::Authenticated(_)), Some(s)) = (&access, schemes)
        && s.is_empty()
    {
        issues.add(
            format!("{key}.require"),
            span,
            "needs an authenticator: configure one under `[authn]`",
        );
        return None;
    }
    if let (Some(Access::Authenticated(need)), Some(s)) = (&access, schemes)
        && !check_step_up(key, require_span, need, s, oidc, issues)
    {
        return None;
    }
    let host = raw.host.map(|h| h.into_inner().to_ascii_lowercase());
    let login = match raw.login {
        Some(on) if *on.get_ref() && !available.session => {
            issues.add(
                format!("{key}.login"),
                on.span(),
                "login is not enabled: add `[authn.basic]` or `[login]`",
            );
            None
        }
        Some(on) => Some(*on.get_ref()),
        None => Some(available.session),
    };
    let cors = match raw.cors {
        Some(c) => Some(Some(cors(key, c.into_inner(), issues)?)),
        None => Some(None),
    };
    let requires_auth = matches!(access, Some(Access::Authenticated(_)));
    Some(Rule {
        index: 0,
        name: raw.name.into_inner(),
        pattern: raw.path.into_inner(),
        path: path_ok.then_some(glob)?,
        captures,
        conditions: None,
        methods: methods?,
        host,
        access: access?,
        hide: raw.hide,
        schemes: schemes?,
        login: login? && requires_auth,
        show_required: raw.show_required,
        cors: cors?,
    })
}

fn methods(
    key: &str,
    raw: Option<Spanned<Vec<String>>>,
    issues: &mut Issues<'_>,
) -> Option<Option<Vec<Method>>> {
    let Some(raw) = raw else { return Some(None) };
    let parsed: Result<Vec<Method>, _> = raw
        .get_ref()
        .iter()
        .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()))
        .collect();
    match parsed {
        Ok(list) if !list.is_empty() => Some(Some(list)),
        _ => {
            issues.add(
                format!("{key}.methods"),
                raw.span(),
                "must be a non-empty list of HTTP methods",
            );
            None
        }
    }
}

fn access(
    key: &str,
    span: std::ops::Range<usize>,
    allow: Option<Spanned<String>>,
    require: Option<Spanned<RawRequire>>,
    issues: &mut Issues<'_>,
) -> Option<Access> {
    match (allow, require) {
        (Some(allow), None) => match allow.get_ref().as_str() {
            "anyone" => Some(Access::Anyone),
            "nobody" => Some(Access::Nobody),
            other => {
                issues.add(
                    format!("{key}.allow"),
                    allow.span(),
                    format!("`{other}`: expected `anyone` or `nobody`"),
                );
                None
            }
        },
        (None, Some(require)) => requirement(key, require, issues).map(Access::Authenticated),
        (Some(allow), Some(_)) => {
            issues.add(
                key.to_owned(),
                allow.span(),
                "set either `allow` or `require`, not both",
            );
            None
        }
        (None, None) => {
            issues.add(key.to_owned(), span, "needs `allow` or `require`");
            None
        }
    }
}

fn schemes(
    key: &str,
    raw: Option<Spanned<Vec<String>>>,
    available: Schemes,
    issues: &mut Issues<'_>,
) -> Option<Schemes> {
    let Some(raw) = raw else {
        return Some(available);
    };
    let mut chosen = Schemes::NONE;
    for name in raw.get_ref() {
        let (slot, on) = match name.as_str() {
            "jwt" => (&mut chosen.jwt, available.jwt),
            "basic" => (&mut chosen.basic, available.basic),
            "api_key" => (&mut chosen.api_key, available.api_key),
            "session" => (&mut chosen.session, available.session),
            "introspection" => (&mut chosen.introspection, available.introspection),
            other => {
                let expected = "expected `jwt`, `introspection`, `basic`, `api_key` or `session`";
                issues.add(
                    format!("{key}.authn"),
                    raw.span(),
                    format!("`{other}`: {expected}"),
                );
                return None;
            }
        };
        if !on {
            let hint = if name == "jwt" && available.introspection {
                " (tokens checked by introspection are `introspection`)"
            } else {
                ""
            };
            issues.add(
                format!("{key}.authn"),
                raw.span(),
                format!("`{name}` is not configured under `[authn]`{hint}"),
            );
            return None;
        }
        *slot = true;
    }
    if !(chosen.is_empty() || chosen.bearer() || chosen.basic) {
        let why = "add `jwt`, `introspection`, `basic` or `api_key`: a 401 must name a scheme \
                   clients can answer";
        issues.add(format!("{key}.authn"), raw.span(), why);
        return None;
    }
    Some(chosen)
}

fn cors(key: &str, raw: RawCors, issues: &mut Issues<'_>) -> Option<Cors> {
    let mut origins = Vec::new();
    for origin in raw.origins {
        let text = origin.get_ref();
        let valid = text != "*"
            && (text.starts_with("https://") || text.starts_with("http://"))
            && !text
                .trim_end_matches('/')
                .split_once("://")
                .is_some_and(|(_, r)| r.is_empty() || r.contains(['/', '?', '#']));
        if !valid {
            issues.add(
                format!("{key}.cors.origins"),
                origin.span(),
                format!("`{text}`: list exact origins like `https://app.example` (no `*`)"),
            );
            return None;
        }
        origins.push(text.trim_end_matches('/').to_owned());
    }
    Some(Cors {
        origins,
        credentials: raw.credentials,
        max_age: raw.max_age.unwrap_or(600),
    })
}
