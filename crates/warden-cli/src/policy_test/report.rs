//! Comparing an answer with a case's expectations, and saying why they differ.

use warden_core::{Deny, Engine, Verdict};

use super::judge::{self, Answer};
use super::spec::Case;

/// Every expectation the answer misses, with an account of the answer; `None` when it meets
/// them all.
pub fn mismatch(engine: &Engine, case: &Case, answer: &Answer, now: u64) -> Option<String> {
    let misses = misses(case, answer);
    if misses.is_empty() {
        return None;
    }
    Some(format!(
        "{} ({})",
        misses.join("; "),
        account(engine, answer, now)
    ))
}

fn misses(case: &Case, answer: &Answer) -> Vec<String> {
    let expect = &case.expect;
    let outcome = &answer.outcome;
    let mut misses = Vec::new();
    if outcome.status != expect.status {
        let (want, got) = (expect.status.as_u16(), outcome.status.as_u16());
        misses.push(format!("expected {want}, got {got}"));
    }
    let rule = answer.decision.rule.as_ref().map(|r| r.name.as_str());
    if let Some(want) = &expect.rule
        && rule != Some(want.as_str())
    {
        let got = rule.unwrap_or("(none)");
        misses.push(format!("expected rule {want}, got {got}"));
    }
    let reason = answer.decision.verdict.reason();
    if let Some(want) = &expect.reason
        && want != reason
    {
        misses.push(format!("expected reason {want}, got {reason}"));
    }
    let challenge = judge::challenge(outcome);
    if let Some(want) = &expect.challenge
        && *want != challenge
    {
        misses.push(format!("expected challenge `{want}`, got `{challenge}`"));
    }
    for (name, want) in &expect.headers {
        let got = judge::joined(outcome, name);
        if got.as_deref() != Some(want.as_str()) {
            let got = got.map_or_else(|| "no such header".to_owned(), |g| format!("`{g}`"));
            misses.push(format!("expected {name} `{want}`, got {got}"));
        }
    }
    misses
}

/// What warden decided: the rule, the reason, and for a condition the one that failed and
/// the values it read.
fn account(engine: &Engine, answer: &Answer, now: u64) -> String {
    let rule = answer.decision.rule.as_ref();
    let head = rule.map_or_else(|| "no rule".to_owned(), |r| format!("rule {}", r.name));
    let verdict = &answer.decision.verdict;
    let reason = verdict.reason();
    let mut text = match verdict {
        Verdict::Allow(Some(id)) => format!("{head}, allowed for {}", id.subject),
        Verdict::Allow(None) => format!("{head}, allowed"),
        _ => format!("{head}, reason {reason}"),
    };
    if let (Some(rule), Verdict::Deny(why @ Deny::Condition { unmet, .. })) = (rule, verdict) {
        let explained = engine.explain_conditions(rule, why.identity(), &answer.facts, now);
        if let Some(c) = explained.unwrap_or_default().get(unmet.index()) {
            text.push_str(&format!(": {} {}", c.origin, c.text));
            if let Err(e) = &c.outcome {
                text.push_str(&format!(" (error: {e})"));
            }
            let values: Vec<String> = (c.values.iter())
                .map(|(path, value)| format!("{path} = {value}"))
                .collect();
            if !values.is_empty() {
                text.push_str(&format!(" — {}", values.join(", ")));
            }
        }
    }
    text
}
