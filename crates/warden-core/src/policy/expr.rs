//! A condition compiled for the hot path: the Cedar expression as Cedar parsed and
//! validated it (its JSON form, the EST), turned into a small tree that evaluates over
//! borrowed request data. Forms warden does not evaluate are refused here, at load.

use serde_json::{Map, Value};

use super::ip::Ip;

/// Which request variable an expression starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The caller's identity.
    Principal,
    /// The rule (its Cedar action).
    Action,
    /// The request as an entity (no attributes).
    Resource,
    /// Method, path, host, params, client, time, headers, query.
    Context,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators (Cedar `Long`, overflow is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
}

/// Set operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Contains,
    ContainsAll,
    ContainsAny,
}

/// `ipaddr` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpTest {
    V4,
    V6,
    Loopback,
    Multicast,
}

/// One element of a `like` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    /// `*`: any run of characters.
    Any,
    /// Literal text.
    Text(String),
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Bool(bool),
    Long(i64),
    Str(String),
    Ip(Ip),
    Var(Var),
    Attr(Box<Expr>, String),
    /// `e has a.b.c`: each attribute in turn.
    Has(Box<Expr>, Vec<String>),
    HasTag(Box<Expr>, Box<Expr>),
    GetTag(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Set(SetOp, Box<Expr>, Box<Expr>),
    IsEmpty(Box<Expr>),
    Like(Box<Expr>, Vec<Pat>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    SetLit(Vec<Expr>),
    Record(Vec<(String, Expr)>),
    InRange(Box<Expr>, Box<Expr>),
    IpTest(IpTest, Box<Expr>),
}

/// A form warden's compiled conditions do not evaluate (said at load, never at run time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

fn unsupported(what: impl Into<String>) -> Unsupported {
    Unsupported(what.into())
}

impl Expr {
    /// Compiles one EST expression node.
    pub fn compile(est: &Value) -> Result<Self, Unsupported> {
        let node = est
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(|| unsupported("an expression warden cannot read"))?;
        let (op, body) = node.iter().next().ok_or_else(|| unsupported("empty"))?;
        let b = |name: &str| arg(body, name);
        Ok(match op.as_str() {
            "Value" => literal(body)?,
            "Var" => Self::Var(var(body)?),
            "!" => Self::Not(b("arg")?),
            "neg" => Self::Neg(b("arg")?),
            "isEmpty" => Self::IsEmpty(b("arg")?),
            "&&" => Self::And(b("left")?, b("right")?),
            "||" => Self::Or(b("left")?, b("right")?),
            "==" => Self::Cmp(Cmp::Eq, b("left")?, b("right")?),
            "!=" => Self::Cmp(Cmp::Ne, b("left")?, b("right")?),
            "<" => Self::Cmp(Cmp::Lt, b("left")?, b("right")?),
            "<=" => Self::Cmp(Cmp::Le, b("left")?, b("right")?),
            ">" => Self::Cmp(Cmp::Gt, b("left")?, b("right")?),
            ">=" => Self::Cmp(Cmp::Ge, b("left")?, b("right")?),
            "+" => Self::Arith(Arith::Add, b("left")?, b("right")?),
            "-" => Self::Arith(Arith::Sub, b("left")?, b("right")?),
            "*" => Self::Arith(Arith::Mul, b("left")?, b("right")?),
            "contains" => Self::Set(SetOp::Contains, b("left")?, b("right")?),
            "containsAll" => Self::Set(SetOp::ContainsAll, b("left")?, b("right")?),
            "containsAny" => Self::Set(SetOp::ContainsAny, b("left")?, b("right")?),
            "hasTag" => Self::HasTag(b("left")?, b("right")?),
            "getTag" => Self::GetTag(b("left")?, b("right")?),
            "." => Self::Attr(b("left")?, text(body, "attr")?),
            "has" => Self::Has(b("left")?, attrs(body)?),
            "like" => Self::Like(b("left")?, pattern(body)?),
            "if-then-else" => Self::If(b("if")?, b("then")?, b("else")?),
            "Set" => Self::SetLit(list(body)?),
            "Record" => Self::Record(record(body)?),
            "in" | "is" => return Err(unsupported(format!("`{op}`: warden has no entity groups"))),
            name => extension(name, body)?,
        })
    }

    /// Whether the expression reads `principal` anywhere.
    pub fn uses_principal(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Self::Var(Var::Principal)));
        found
    }

    /// Calls `f` on this node and every node below it.
    pub fn visit(&self, f: &mut impl FnMut(&Self)) {
        f(self);
        for c in self.children() {
            c.visit(f);
        }
    }

    /// The nodes directly below this one.
    pub fn children(&self) -> Vec<&Self> {
        match self {
            Self::Bool(_) | Self::Long(_) | Self::Str(_) | Self::Ip(_) | Self::Var(_) => vec![],
            Self::Attr(e, _)
            | Self::Has(e, _)
            | Self::Not(e)
            | Self::Neg(e)
            | Self::IsEmpty(e)
            | Self::Like(e, _)
            | Self::IpTest(_, e) => vec![e],
            Self::HasTag(a, b)
            | Self::GetTag(a, b)
            | Self::And(a, b)
            | Self::Or(a, b)
            | Self::Cmp(_, a, b)
            | Self::Arith(_, a, b)
            | Self::Set(_, a, b)
            | Self::InRange(a, b) => vec![a, b],
            Self::If(a, b, c) => vec![a, b, c],
            Self::SetLit(items) => items.iter().collect(),
            Self::Record(fields) => fields.iter().map(|(_, e)| e).collect(),
        }
    }
}

fn arg(body: &Value, name: &str) -> Result<Box<Expr>, Unsupported> {
    let e = body
        .get(name)
        .ok_or_else(|| unsupported(format!("no `{name}`")))?;
    Ok(Box::new(Expr::compile(e)?))
}

fn text(body: &Value, name: &str) -> Result<String, Unsupported> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| unsupported(format!("no `{name}`")))
}

fn attrs(body: &Value) -> Result<Vec<String>, Unsupported> {
    match body.get("attr") {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unsupported("`has` with a non-string attribute")),
        _ => Err(unsupported("`has` without an attribute")),
    }
}

fn list(body: &Value) -> Result<Vec<Expr>, Unsupported> {
    let items = body.as_array().ok_or_else(|| unsupported("a set"))?;
    items.iter().map(Expr::compile).collect()
}

fn record(body: &Value) -> Result<Vec<(String, Expr)>, Unsupported> {
    let fields: &Map<String, Value> = body.as_object().ok_or_else(|| unsupported("a record"))?;
    fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), Expr::compile(v)?)))
        .collect()
}

fn literal(value: &Value) -> Result<Expr, Unsupported> {
    match value {
        Value::Bool(b) => Ok(Expr::Bool(*b)),
        Value::String(s) => Ok(Expr::Str(s.clone())),
        Value::Number(n) => n
            .as_i64()
            .map(Expr::Long)
            .ok_or_else(|| unsupported("a number that is not a Long")),
        _ => Err(unsupported(
            "entity literals: warden's entities are `principal`, `context.headers` and `context.query`",
        )),
    }
}

fn var(value: &Value) -> Result<Var, Unsupported> {
    match value.as_str() {
        Some("principal") => Ok(Var::Principal),
        Some("action") => Ok(Var::Action),
        Some("resource") => Ok(Var::Resource),
        Some("context") => Ok(Var::Context),
        _ => Err(unsupported("an unknown variable")),
    }
}

fn pattern(body: &Value) -> Result<Vec<Pat>, Unsupported> {
    let items = (body.get("pattern").and_then(Value::as_array))
        .ok_or_else(|| unsupported("`like` without a pattern"))?;
    let mut out: Vec<Pat> = Vec::new();
    for item in items {
        match (item, out.last_mut()) {
            (Value::String(w), _) if w == "Wildcard" => out.push(Pat::Any),
            (Value::Object(o), last) => {
                let lit = (o.get("Literal").and_then(Value::as_str))
                    .ok_or_else(|| unsupported("a `like` pattern element"))?;
                match last {
                    Some(Pat::Text(t)) => t.push_str(lit),
                    _ => out.push(Pat::Text(lit.to_owned())),
                }
            }
            _ => return Err(unsupported("a `like` pattern element")),
        }
    }
    Ok(out)
}

/// Extension calls: `ip("…")` with a literal, `isInRange`, and the `ipaddr` tests.
fn extension(name: &str, body: &Value) -> Result<Expr, Unsupported> {
    let args = list(body)?;
    let mut args = args.into_iter();
    let (first, second) = (args.next(), args.next());
    let one = |e: Option<Expr>| e.map(Box::new).ok_or_else(|| unsupported("an argument"));
    match name {
        "ip" => match first {
            Some(Expr::Str(s)) => s
                .parse::<Ip>()
                .map(Expr::Ip)
                .map_err(|why| unsupported(format!("`ip(\"{s}\")`: {why}"))),
            _ => Err(unsupported("`ip()` takes a string literal")),
        },
        "isInRange" => Ok(Expr::InRange(one(first)?, one(second)?)),
        "isIpv4" => Ok(Expr::IpTest(IpTest::V4, one(first)?)),
        "isIpv6" => Ok(Expr::IpTest(IpTest::V6, one(first)?)),
        "isLoopback" => Ok(Expr::IpTest(IpTest::Loopback, one(first)?)),
        "isMulticast" => Ok(Expr::IpTest(IpTest::Multicast, one(first)?)),
        other => Err(unsupported(format!(
            "`{other}()` is not available in warden's conditions"
        ))),
    }
}
