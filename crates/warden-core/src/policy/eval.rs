//! Evaluating a compiled condition over one request, with Cedar's semantics: `==` across
//! types is `false`, a missing attribute or tag is an error, `&&`/`||` short-circuit and
//! need booleans, arithmetic overflow is an error. Values borrow from the request.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::expr::{Arith, Cmp, Expr, IpTest, Pat, SetOp, Var};
use super::ip::Ip;
use crate::identity::Identity;

/// What a condition may read about one request.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The caller, when authenticated.
    pub identity: Option<&'a Identity>,
    /// The judged method.
    pub method: &'a str,
    /// The normalized path.
    pub path: &'a str,
    /// The judged host (empty when unknown).
    pub host: &'a str,
    /// The rule's named path segments.
    pub params: &'a [(&'a str, &'a str)],
    /// The headers conditions name (lowercase names), values joined with `, `.
    pub headers: &'a [(String, String)],
    /// The raw query string (after `?`).
    pub query: &'a str,
    /// The client address.
    pub client: IpAddr,
    /// Unix seconds.
    pub now: u64,
}

/// The declared type of a claim: a record whose fields are declared too, or anything else
/// (read as the token says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `{ field = "Type", … }`.
    Record(Vec<(String, Shape)>),
    /// A Cedar type that is not a record.
    Value,
}

/// Why a condition could not be evaluated (Cedar's evaluation errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

fn err<T>(why: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(why.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ent {
    Principal,
    Headers,
    Query,
    Resource,
    Action,
}

#[derive(Debug, Clone)]
enum Rec<'a> {
    Context,
    Params,
    /// Declared claims: the token's object (if any) seen through the declared fields.
    Claims(Option<&'a Map<String, Value>>, &'a [(String, Shape)]),
    /// An undeclared object inside a claim: every member.
    Json(&'a Map<String, Value>),
    Lit(Vec<(&'a str, Val<'a>)>),
}

#[derive(Debug, Clone)]
enum Val<'a> {
    Bool(bool),
    Long(i64),
    Str(Cow<'a, str>),
    Ip(Ip),
    Set(Vec<Val<'a>>),
    Strs(&'a [String]),
    Json(&'a [Value]),
    Rec(Rec<'a>),
    Ent(Ent),
}

/// The environment of one evaluation.
pub struct Env<'a> {
    /// The request.
    pub input: &'a Input<'a>,
    /// The declared claims.
    pub claims: &'a [(String, Shape)],
}

/// Evaluates a condition: `Ok(true)` when it holds.
pub fn holds(e: &Expr, env: &Env<'_>) -> Result<bool, EvalError> {
    match eval(e, env)? {
        Val::Bool(b) => Ok(b),
        _ => err("the condition is not a boolean"),
    }
}

const CONTEXT: [&str; 10] = [
    "method", "path", "host", "params", "client", "now", "hour", "weekday", "headers", "query",
];

fn eval<'a>(e: &'a Expr, env: &Env<'a>) -> Result<Val<'a>, EvalError> {
    Ok(match e {
        Expr::Bool(b) => Val::Bool(*b),
        Expr::Long(n) => Val::Long(*n),
        Expr::Str(s) => Val::Str(Cow::Borrowed(s)),
        Expr::Ip(ip) => Val::Ip(*ip),
        Expr::Var(Var::Principal) => Val::Ent(Ent::Principal),
        Expr::Var(Var::Context) => Val::Rec(Rec::Context),
        Expr::Var(Var::Resource) => Val::Ent(Ent::Resource),
        Expr::Var(Var::Action) => Val::Ent(Ent::Action),
        Expr::Attr(on, name) => attr(eval(on, env)?, name, env)?,
        Expr::Has(on, path) => Val::Bool(has_path(eval(on, env)?, path, env)?),
        Expr::HasTag(on, key) => Val::Bool(tag(eval(on, env)?, eval(key, env)?, env)?.is_some()),
        Expr::GetTag(on, key) => match tag(eval(on, env)?, eval(key, env)?, env)? {
            Some(v) => Val::Str(v),
            None => return err("tag not found"),
        },
        Expr::Not(a) => Val::Bool(!boolean(eval(a, env)?)?),
        Expr::Neg(a) => match eval(a, env)? {
            Val::Long(n) => Val::Long(n.checked_neg().ok_or(EvalError("overflow".into()))?),
            _ => return err("type error: `-` needs a Long"),
        },
        Expr::And(a, b) => Val::Bool(boolean(eval(a, env)?)? && boolean(eval(b, env)?)?),
        Expr::Or(a, b) => Val::Bool(boolean(eval(a, env)?)? || boolean(eval(b, env)?)?),
        Expr::Cmp(op, a, b) => Val::Bool(compare(*op, eval(a, env)?, eval(b, env)?, env)?),
        Expr::Arith(op, a, b) => Val::Long(arith(*op, eval(a, env)?, eval(b, env)?)?),
        Expr::Set(op, a, b) => Val::Bool(set_op(*op, eval(a, env)?, eval(b, env)?, env)?),
        Expr::IsEmpty(a) => Val::Bool(elements(eval(a, env)?)?.is_empty()),
        Expr::Like(a, pat) => match eval(a, env)? {
            Val::Str(s) => Val::Bool(like(&s, pat)),
            _ => return err("type error: `like` needs a String"),
        },
        Expr::If(c, t, f) => {
            if boolean(eval(c, env)?)? {
                eval(t, env)?
            } else {
                eval(f, env)?
            }
        }
        Expr::SetLit(items) => Val::Set(
            items
                .iter()
                .map(|i| eval(i, env))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Record(fields) => Val::Rec(Rec::Lit(
            fields
                .iter()
                .map(|(k, v)| Ok((k.as_str(), eval(v, env)?)))
                .collect::<Result<_, EvalError>>()?,
        )),
        Expr::InRange(a, b) => match (eval(a, env)?, eval(b, env)?) {
            (Val::Ip(a), Val::Ip(b)) => Val::Bool(a.in_range(b)),
            _ => return err("type error: `isInRange` needs ipaddr values"),
        },
        Expr::IpTest(test, a) => match eval(a, env)? {
            Val::Ip(ip) => Val::Bool(match test {
                IpTest::V4 => ip.is_v4(),
                IpTest::V6 => !ip.is_v4(),
                IpTest::Loopback => ip.is_loopback(),
                IpTest::Multicast => ip.is_multicast(),
            }),
            _ => return err("type error: an ipaddr test needs an ipaddr"),
        },
    })
}

fn boolean(v: Val<'_>) -> Result<bool, EvalError> {
    match v {
        Val::Bool(b) => Ok(b),
        _ => err("type error: expected a boolean"),
    }
}

/// A claim's JSON as a value: `null` and fractional numbers are absent (Cedar has neither).
fn json<'a>(v: &'a Value, shape: &'a Shape) -> Option<Val<'a>> {
    Some(match (v, shape) {
        (Value::Object(m), Shape::Record(fields)) => Val::Rec(Rec::Claims(Some(m), fields)),
        (Value::Object(m), Shape::Value) => Val::Rec(Rec::Json(m)),
        (Value::String(s), _) => Val::Str(Cow::Borrowed(s)),
        (Value::Bool(b), _) => Val::Bool(*b),
        (Value::Number(n), _) => Val::Long(n.as_i64()?),
        (Value::Array(items), _) => Val::Json(items),
        (Value::Null, _) => return None,
    })
}

/// An attribute of a record or entity; `None` when it has none of that name.
fn field<'a>(on: &Val<'a>, name: &str, env: &Env<'a>) -> Result<Option<Val<'a>>, EvalError> {
    let input = env.input;
    Ok(match on {
        Val::Ent(Ent::Principal) => {
            let Some(id) = input.identity else {
                return err("no identity");
            };
            match name {
                "subject" => Some(Val::Str(Cow::Borrowed(&id.subject))),
                "roles" => Some(Val::Strs(&id.roles)),
                "scopes" => Some(Val::Strs(&id.scopes)),
                "method" => Some(Val::Str(Cow::Borrowed(id.method.as_str()))),
                "acr" => id.acr.as_deref().map(|a| Val::Str(Cow::Borrowed(a))),
                "auth_time" => id
                    .auth_time
                    .map(|t| Val::Long(i64::try_from(t).unwrap_or(i64::MAX))),
                "claims" => Some(Val::Rec(Rec::Claims(id.claims.as_deref(), env.claims))),
                _ => None,
            }
        }
        Val::Ent(_) => None,
        Val::Rec(Rec::Context) => context(name, input),
        Val::Rec(Rec::Params) => (input.params.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Val::Str(Cow::Borrowed(*v))),
        Val::Rec(Rec::Claims(map, fields)) => {
            let shape = fields.iter().find(|(n, _)| n == name).map(|(_, s)| s);
            match (map, shape) {
                (Some(map), Some(shape)) => map.get(name).and_then(|v| json(v, shape)),
                _ => None,
            }
        }
        Val::Rec(Rec::Json(map)) => map.get(name).and_then(|v| json(v, &Shape::Value)),
        Val::Rec(Rec::Lit(fields)) => fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone()),
        _ => {
            return err(format!(
                "type error: `.{name}` on a value that is not a record"
            ));
        }
    })
}

fn context<'a>(name: &str, input: &'a Input<'a>) -> Option<Val<'a>> {
    let now = i64::try_from(input.now).unwrap_or(i64::MAX);
    Some(match name {
        "method" => Val::Str(Cow::Borrowed(input.method)),
        "path" => Val::Str(Cow::Borrowed(input.path)),
        "host" => Val::Str(Cow::Borrowed(input.host)),
        "params" => Val::Rec(Rec::Params),
        "client" => Val::Ip(Ip::host(input.client)),
        "now" => Val::Long(now),
        "hour" => Val::Long(now / 3600 % 24),
        // 1970-01-01 was a Thursday; ISO weekdays run Monday = 1 to Sunday = 7.
        "weekday" => Val::Long((now / 86_400 + 3) % 7 + 1),
        "headers" => Val::Ent(Ent::Headers),
        "query" => Val::Ent(Ent::Query),
        _ => return None,
    })
}

fn attr<'a>(on: Val<'a>, name: &str, env: &Env<'a>) -> Result<Val<'a>, EvalError> {
    field(&on, name, env)?.ok_or_else(|| EvalError(format!("attribute `{name}` not found")))
}

fn has_path<'a>(mut on: Val<'a>, path: &[String], env: &Env<'a>) -> Result<bool, EvalError> {
    for name in path {
        match field(&on, name, env)? {
            Some(next) => on = next,
            None => return Ok(false),
        }
    }
    Ok(true)
}

fn tag<'a>(on: Val<'a>, key: Val<'a>, env: &Env<'a>) -> Result<Option<Cow<'a, str>>, EvalError> {
    let Val::Str(key) = key else {
        return err("type error: a tag name is a String");
    };
    let input = env.input;
    Ok(match on {
        Val::Ent(Ent::Headers) => (input.headers.iter())
            .find(|(n, _)| *n == key)
            .map(|(_, v)| Cow::Borrowed(v.as_str())),
        Val::Ent(Ent::Query) => form_urlencoded::parse(input.query.as_bytes())
            .find(|(n, _)| *n == key)
            .map(|(_, v)| v),
        Val::Ent(_) => None,
        _ => return err("type error: tags are read from an entity"),
    })
}

/// The members of a set value.
fn elements<'a>(v: Val<'a>) -> Result<Vec<Val<'a>>, EvalError> {
    Ok(match v {
        Val::Set(items) => items,
        Val::Strs(items) => items
            .iter()
            .map(|s| Val::Str(Cow::Borrowed(s.as_str())))
            .collect(),
        Val::Json(items) => items
            .iter()
            .filter_map(|i| json(i, &Shape::Value))
            .collect(),
        _ => return err("type error: expected a set"),
    })
}

fn is_set(v: &Val<'_>) -> bool {
    matches!(v, Val::Set(_) | Val::Strs(_) | Val::Json(_))
}

/// Whether `set` has a member equal to `v`.
fn member<'a>(set: &[Val<'a>], v: &Val<'a>, env: &Env<'a>) -> Result<bool, EvalError> {
    for item in set {
        if equal(item, v, env)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn set_op<'a>(op: SetOp, a: Val<'a>, b: Val<'a>, env: &Env<'a>) -> Result<bool, EvalError> {
    if let (SetOp::Contains, Val::Strs(items), Val::Str(s)) = (op, &a, &b) {
        return Ok(items.iter().any(|i| i == s));
    }
    let a = elements(a)?;
    match op {
        SetOp::Contains => member(&a, &b, env),
        SetOp::ContainsAll => subset(&elements(b)?, &a, env),
        SetOp::ContainsAny => {
            for item in elements(b)? {
                if member(&a, &item, env)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

fn subset<'a>(small: &[Val<'a>], big: &[Val<'a>], env: &Env<'a>) -> Result<bool, EvalError> {
    for item in small {
        if !member(big, item, env)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every field of a record value, for equality.
fn fields<'a>(r: &Rec<'a>, env: &Env<'a>) -> Result<Vec<(String, Val<'a>)>, EvalError> {
    let on = Val::Rec(r.clone());
    let names: Vec<String> = match r {
        Rec::Context => CONTEXT.iter().map(|n| (*n).to_owned()).collect(),
        Rec::Params => env
            .input
            .params
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect(),
        Rec::Claims(_, declared) => declared.iter().map(|(n, _)| n.clone()).collect(),
        Rec::Json(map) => map.keys().cloned().collect(),
        Rec::Lit(items) => items.iter().map(|(n, _)| (*n).to_owned()).collect(),
    };
    let mut out = Vec::new();
    for name in names {
        if let Some(v) = field(&on, &name, env)? {
            out.push((name, v));
        }
    }
    Ok(out)
}

/// Cedar's `==`: never an error across types, structural for sets and records.
fn equal<'a>(a: &Val<'a>, b: &Val<'a>, env: &Env<'a>) -> Result<bool, EvalError> {
    Ok(match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Long(x), Val::Long(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Ip(x), Val::Ip(y)) => x == y,
        (Val::Ent(x), Val::Ent(y)) => x == y,
        (Val::Rec(x), Val::Rec(y)) => {
            let (x, y) = (fields(x, env)?, fields(y, env)?);
            if x.len() != y.len() {
                return Ok(false);
            }
            for (name, v) in &x {
                match y.iter().find(|(n, _)| n == name) {
                    Some((_, w)) if equal(v, w, env)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (x, y) if is_set(x) && is_set(y) => {
            let (x, y) = (elements(x.clone())?, elements(y.clone())?);
            subset(&x, &y, env)? && subset(&y, &x, env)?
        }
        _ => false,
    })
}

fn compare<'a>(op: Cmp, a: Val<'a>, b: Val<'a>, env: &Env<'a>) -> Result<bool, EvalError> {
    match op {
        Cmp::Eq => return equal(&a, &b, env),
        Cmp::Ne => return Ok(!equal(&a, &b, env)?),
        _ => {}
    }
    let (Val::Long(x), Val::Long(y)) = (a, b) else {
        return err("type error: comparing values that are not Longs");
    };
    Ok(match op {
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        _ => x >= y,
    })
}

fn arith(op: Arith, a: Val<'_>, b: Val<'_>) -> Result<i64, EvalError> {
    let (Val::Long(x), Val::Long(y)) = (a, b) else {
        return err("type error: arithmetic on values that are not Longs");
    };
    let out = match op {
        Arith::Add => x.checked_add(y),
        Arith::Sub => x.checked_sub(y),
        Arith::Mul => x.checked_mul(y),
    };
    out.ok_or(EvalError("overflow".into()))
}

/// `like`: `*` matches any run of characters, everything else itself.
fn like(s: &str, pat: &[Pat]) -> bool {
    match pat.split_first() {
        None => s.is_empty(),
        Some((Pat::Text(t), rest)) => s.strip_prefix(t.as_str()).is_some_and(|r| like(r, rest)),
        Some((Pat::Any, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices()
                .map(|(i, _)| i)
                .chain([s.len()])
                .any(|i| like(&s[i..], rest))
        }
    }
}

/// The value of `e` as `warden check` shows it, or the error evaluating it.
pub fn show(e: &Expr, env: &Env<'_>) -> String {
    match eval(e, env) {
        Ok(v) => render(&v, env),
        Err(e) => format!("error: {e}"),
    }
}

fn render(v: &Val<'_>, env: &Env<'_>) -> String {
    match v {
        Val::Bool(b) => b.to_string(),
        Val::Long(n) => n.to_string(),
        Val::Str(s) => format!("{s:?}"),
        Val::Ip(ip) => format!("ip(\"{ip}\")"),
        Val::Set(_) | Val::Strs(_) | Val::Json(_) => {
            let items = elements(v.clone()).unwrap_or_default();
            let shown: Vec<String> = items.iter().map(|i| render(i, env)).collect();
            format!("[{}]", shown.join(", "))
        }
        Val::Rec(r) => {
            let shown: Vec<String> = (fields(r, env).unwrap_or_default().iter())
                .map(|(k, v)| format!("{k}: {}", render(v, env)))
                .collect();
            format!("{{{}}}", shown.join(", "))
        }
        Val::Ent(Ent::Principal) => "principal".into(),
        Val::Ent(Ent::Headers) => "context.headers".into(),
        Val::Ent(Ent::Query) => "context.query".into(),
        Val::Ent(Ent::Resource) => "resource".into(),
        Val::Ent(Ent::Action) => "action".into(),
    }
}
