//! `warden check`'s account of a rule's conditions: each one's outcome and the values of
//! what it reads (credentials never reach a condition, so none can be shown).

use super::Conditions;
use super::eval::{self, Env, Input};
use super::expr::{Expr, Var};

/// One condition, judged for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// Where it was written.
    pub origin: String,
    /// The condition as written.
    pub text: String,
    /// `Ok(holds)`, or the evaluation error.
    pub outcome: Result<bool, String>,
    /// Each value it reads, as `path = value`.
    pub values: Vec<(String, String)>,
}

/// Judges every condition (not only up to the first that fails) and shows what each read.
pub fn explain(conditions: &Conditions, input: &Input<'_>) -> Vec<Explained> {
    let env = Env {
        input,
        claims: conditions.claims(),
    };
    (conditions.items.iter())
        .map(|c| {
            let mut reads = Vec::new();
            reads_of(c.expr(), &mut reads);
            let mut values: Vec<(String, String)> = Vec::new();
            for e in reads {
                let path = path_of(e);
                if !values.iter().any(|(p, _)| *p == path) {
                    values.push((path, eval::show(e, &env)));
                }
            }
            Explained {
                origin: c.origin.clone(),
                text: c.text.clone(),
                outcome: eval::holds(c.expr(), &env).map_err(|e| e.0),
                values,
            }
        })
        .collect()
}

/// The attribute and tag reads in `e` that no longer read contains.
fn reads_of<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Attr(..) => out.push(e),
        Expr::GetTag(_, key) => {
            out.push(e);
            reads_of(key, out);
        }
        _ => e.children().into_iter().for_each(|c| reads_of(c, out)),
    }
}

/// `principal.claims.tenant`, `context.headers.getTag("x-tenant")`.
fn path_of(e: &Expr) -> String {
    match e {
        Expr::Var(Var::Principal) => "principal".into(),
        Expr::Var(Var::Context) => "context".into(),
        Expr::Var(Var::Resource) => "resource".into(),
        Expr::Var(Var::Action) => "action".into(),
        Expr::Attr(inner, name) => format!("{}.{name}", path_of(inner)),
        Expr::GetTag(inner, key) => match key.as_ref() {
            Expr::Str(k) => format!("{}.getTag({k:?})", path_of(inner)),
            _ => format!("{}.getTag(…)", path_of(inner)),
        },
        _ => "…".into(),
    }
}
