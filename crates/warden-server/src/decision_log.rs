//! The decision log: one line per decision, cheap enough to leave on under load.

use std::fmt;

use warden_core::policy::Unmet;
use warden_core::{Decision, Deny, Outcome, RequestFacts, Verdict};

/// Logs one decision at `info`.
pub fn log(facts: &RequestFacts, decision: &Decision, outcome: &Outcome, id: &str) {
    let rule = decision.rule.as_ref().map_or("-", |r| r.name.as_str());
    let verdict = decision.verdict.reason();
    let subject = decision.verdict.identity();
    let subject = subject.map_or("-", |i| i.subject.as_str());
    let request_id = facts.request_id.as_deref().unwrap_or("-");
    tracing::info!(
        decision = %Field(id),
        request_id = %Field(request_id),
        status = outcome.status.as_u16(),
        rule = %Field(rule),
        verdict = %verdict,
        subject = %Field(subject),
        client = %facts.client,
        method = %Field(facts.method.as_str()),
        path = %Field(&facts.path),
        "decision"
    );
    if let Verdict::Deny(Deny::Condition { unmet, .. }) = &decision.verdict {
        log_condition(decision, unmet, id);
    }
}

/// Which condition denied, and for one that could not be evaluated, why (a warning: the
/// policy or the tokens need a look).
fn log_condition(decision: &Decision, unmet: &Unmet, id: &str) {
    let conditions = decision.rule.as_ref().and_then(|r| r.conditions.as_ref());
    let origin = conditions
        .and_then(|c| c.items.get(unmet.index()))
        .map_or("-", |c| c.origin.as_str());
    match unmet {
        Unmet::Error { message, .. } => tracing::warn!(
            decision = %Field(id),
            condition = %Field(origin),
            error = %Field(message),
            "a rule condition could not be evaluated: denied"
        ),
        Unmet::Failed { .. } => tracing::debug!(
            decision = %Field(id),
            condition = %Field(origin),
            "a rule condition is false"
        ),
    }
}

/// A value written bare when it cannot be mistaken for something else in a `key=value` line,
/// and quoted and escaped (`Debug`) otherwise, so a client-chosen path or subject cannot forge
/// fields or lines. The bare case skips `Debug`'s per-character escaping, which was most of
/// the cost of a decision line.
struct Field<'a>(&'a str);

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare = !self.0.is_empty() && self.0.bytes().all(is_bare);
        if bare {
            f.write_str(self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;%".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_bare_and_the_rest_quoted_and_escaped() {
        let show = |s: &str| Field(s).to_string();
        assert_eq!(show("/private/x"), "/private/x");
        assert_eq!(show("69802f010000135288"), "69802f010000135288");
        assert_eq!(show("a b"), "\"a b\"");
        assert_eq!(show("x status=200"), "\"x status=200\"");
        assert_eq!(show("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(show("line\nnext"), "\"line\\nnext\"");
        assert_eq!(show("é"), "\"é\"");
        assert_eq!(show(""), "\"\"");
    }
}
