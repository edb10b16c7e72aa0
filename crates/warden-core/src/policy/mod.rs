//! Conditions on rules: Cedar expressions over the identity and the request, parsed and
//! type-checked by Cedar against a schema warden derives from the configuration (at load,
//! in `config::policy`), then compiled into [`expr::Expr`] trees that evaluate without
//! allocating per request in the common case. Every condition of a rule must hold; one that
//! is false denies (403), one that cannot be evaluated denies too (403, logged), never 500
//! and never an allow.

mod eval;
mod explain;
pub mod expr;
pub mod ip;

use std::sync::Arc;

pub use eval::{EvalError, Input, Shape};
pub use explain::{Explained, explain};
use expr::Expr;

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Where it was written: `rule[2].when[0]`.
    pub origin: String,
    /// The Cedar expression as written.
    pub text: String,
    expr: Expr,
}

impl Condition {
    /// A compiled condition.
    pub fn new(origin: String, text: String, expr: Expr) -> Self {
        Self { origin, text, expr }
    }

    /// The compiled expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// Every condition of one rule, with the declared claims they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// In the order written; all must hold.
    pub items: Vec<Condition>,
    claims: Arc<Vec<(String, Shape)>>,
}

/// Why a rule's conditions let a request not through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// Condition `index` is false.
    Failed {
        /// Which condition.
        index: usize,
    },
    /// Condition `index` could not be evaluated (a missing claim, a value of the wrong type).
    Error {
        /// Which condition.
        index: usize,
        /// Cedar's kind of evaluation error, for the log.
        message: String,
    },
}

impl Unmet {
    /// Which condition.
    pub fn index(&self) -> usize {
        match self {
            Self::Failed { index } | Self::Error { index, .. } => *index,
        }
    }
}

impl Conditions {
    /// The conditions of one rule.
    pub fn new(items: Vec<Condition>, claims: Arc<Vec<(String, Shape)>>) -> Self {
        Self { items, claims }
    }

    /// Judges the request: `Ok` when every condition holds, else the first that does not.
    pub fn judge(&self, input: &Input<'_>) -> Result<(), Unmet> {
        let env = eval::Env {
            input,
            claims: &self.claims,
        };
        for (index, c) in self.items.iter().enumerate() {
            match eval::holds(&c.expr, &env) {
                Ok(true) => {}
                Ok(false) => return Err(Unmet::Failed { index }),
                Err(e) => {
                    return Err(Unmet::Error {
                        index,
                        message: e.0,
                    });
                }
            }
        }
        Ok(())
    }

    /// The declared claims.
    pub fn claims(&self) -> &[(String, Shape)] {
        &self.claims
    }
}
