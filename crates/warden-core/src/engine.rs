//! The decision pipeline: facts → rule → network → credentials → identity → decision.

use crate::config::Config;
use crate::credentials::{self, Presented};
use crate::decision::{Credential, Decision, Deny, Pending, Shortfall, Step, Verdict};
use crate::facts::RequestFacts;
use crate::identity::{Authn, Identity, Rejection, TokenProblem};
use crate::path;
use crate::policy::{Explained, Input, explain};
use crate::rules::{Access, Requirement, Rule, Schemes};

/// The engine for one loaded configuration.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
}

fn deny(rule: Option<&std::sync::Arc<Rule>>, why: Deny) -> Step {
    Step::Decided(Decision {
        rule: rule.cloned(),
        verdict: Verdict::Deny(why),
    })
}

impl Engine {
    /// Wraps a checked configuration.
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Everything that needs no I/O: network, path, rule, credential syntax, and the
    /// conditions of a rule that lets anyone in; `now` is Unix seconds.
    pub fn begin(&self, facts: &RequestFacts, now: u64) -> Step {
        if self.config.network.is_denied(facts.client) {
            return deny(None, Deny::Network);
        }
        let normalized = match path::normalize(&facts.path) {
            Ok(p) => p,
            Err(e) => return deny(None, Deny::BadPath(e)),
        };
        let host = facts.host.as_deref();
        let Some(rule) = self.config.rules.find(&normalized, &facts.method, host) else {
            return deny(None, Deny::NoRule);
        };
        if facts.preflight.is_some() && rule.cors.is_some() {
            return Step::Decided(Decision {
                rule: Some(rule.clone()),
                verdict: Verdict::Preflight,
            });
        }
        match &rule.access {
            Access::Anyone => match judge_conditions(rule, None, facts, &normalized, now) {
                Some(unmet) => deny(Some(rule), unmet),
                None => Step::Decided(Decision {
                    rule: Some(rule.clone()),
                    verdict: Verdict::Allow(None),
                }),
            },
            Access::Nobody => deny(Some(rule), Deny::Closed),
            Access::Authenticated(_) => {
                let presented = credentials::check_sizes(&facts.credentials)
                    .and_then(|()| credentials::extract(&facts.credentials));
                match presented {
                    Err(e) => deny(Some(rule), Deny::BadSending(e)),
                    Ok(presented) => match route(presented, rule.schemes) {
                        Ok(credential) => Step::Authenticate(Pending {
                            rule: rule.clone(),
                            credential,
                            path: normalized,
                        }),
                        Err(why) => deny(Some(rule), why),
                    },
                }
            }
        }
    }

    /// Completes a decision once the credential has been judged; `now` (Unix seconds) dates
    /// the identity's `auth_time` against the rule's `max_age` and is the conditions' time.
    pub fn finish(
        &self,
        pending: Pending,
        authn: Authn,
        facts: &RequestFacts,
        now: u64,
    ) -> Decision {
        let verdict = match authn {
            Authn::Authenticated(identity) => {
                let path = pending.path.as_str();
                let lacking =
                    |id: &Identity| judge_conditions(&pending.rule, Some(id), facts, path, now);
                authorize(&pending.rule.access, identity, now, lacking)
            }
            Authn::Rejected(why) => Verdict::Deny(Deny::Rejected(why)),
            Authn::Unavailable => Verdict::Deny(Deny::Unavailable),
            Authn::Throttled { retry_after } => Verdict::Deny(Deny::Throttled { retry_after }),
        };
        Decision {
            rule: Some(pending.rule),
            verdict,
        }
    }
}

/// Sends a credential to the authenticator that speaks it; anything the rule does not
/// accept counts as no credential at all (401 with challenges, no error).
fn route(presented: Presented, schemes: Schemes) -> Result<Credential, Deny> {
    match presented {
        Presented::Bearer(token) if schemes.bearer() => route_bearer(token, schemes),
        Presented::ApiKeyHeader(key) if schemes.api_key => Ok(Credential::ApiKey(key)),
        Presented::Basic { user, password } if schemes.basic => {
            Ok(Credential::Basic { user, password })
        }
        // Undecodable Basic is judged like an unknown user, so it costs the same hashing and
        // answers the same way as a wrong password.
        Presented::BadBasic if schemes.basic => Ok(Credential::Basic {
            user: String::new(),
            password: String::new(),
        }),
        Presented::Session(token) if schemes.session => Ok(Credential::Session(token)),
        _ => Err(Deny::Unauthenticated),
    }
}

/// A bearer value: a `wdn_` key to the key store; a compact JWS to JWT verification when the
/// rule takes JWTs; anything else to introspection when the rule takes that. A `wdn_` value
/// never goes to the authorization server: it is one of ours, and a secret.
fn route_bearer(token: String, schemes: Schemes) -> Result<Credential, Deny> {
    let key_shaped = token.starts_with("wdn_");
    if schemes.api_key && (key_shaped || !(schemes.jwt || schemes.introspection)) {
        return Ok(Credential::ApiKey(token));
    }
    if schemes.jwt && (!schemes.introspection || credentials::is_compact_jws(&token)) {
        return Ok(Credential::Jwt(token));
    }
    if key_shaped {
        let problem = TokenProblem::UnknownApiKey;
        return Err(Deny::Rejected(Rejection::InvalidToken(problem)));
    }
    Ok(Credential::Introspection(token))
}

/// The rule's conditions over this request: `None` when they hold (or there are none), else
/// the denial.
fn judge_conditions(
    rule: &Rule,
    identity: Option<&Identity>,
    facts: &RequestFacts,
    path: &str,
    now: u64,
) -> Option<Deny> {
    let conditions = rule.conditions.as_ref()?;
    let unmet = with_input(rule, identity, facts, path, now, |input| {
        conditions.judge(input)
    })
    .err()?;
    Some(Deny::Condition {
        identity: identity.map(|i| Box::new(i.clone())),
        unmet,
    })
}

/// Runs `f` on what the rule's conditions may read about this request.
fn with_input<R>(
    rule: &Rule,
    identity: Option<&Identity>,
    facts: &RequestFacts,
    path: &str,
    now: u64,
    f: impl FnOnce(&Input<'_>) -> R,
) -> R {
    let params = rule.captures.values(path);
    let query = facts.target.split_once('?').map_or("", |(_, q)| q);
    f(&Input {
        identity,
        method: facts.method.as_str(),
        path,
        host: facts.host.as_deref().unwrap_or(""),
        params: &params,
        headers: &facts.condition_headers,
        query,
        client: facts.client,
        now,
    })
}

impl Engine {
    /// For `warden check`: every condition of the rule judged for this request, with the
    /// values each read (`None` when the rule has none).
    pub fn explain_conditions(
        &self,
        rule: &Rule,
        identity: Option<&Identity>,
        facts: &RequestFacts,
        now: u64,
    ) -> Option<Vec<Explained>> {
        let conditions = rule.conditions.as_ref()?;
        let path = path::normalize(&facts.path).ok()?;
        Some(with_input(rule, identity, facts, &path, now, |input| {
            explain(conditions, input)
        }))
    }
}

/// Roles are any-of, scopes all-of; a missing role is decided first, since no scope helps then.
/// Then the rule's conditions (`lacking`), which a new sign-in cannot meet either; how the
/// user signed in is judged last.
fn authorize(
    access: &Access,
    identity: Identity,
    now: u64,
    lacking: impl FnOnce(&Identity) -> Option<Deny>,
) -> Verdict {
    let need = match access {
        Access::Authenticated(need) => need,
        Access::Anyone => return Verdict::Allow(Some(identity)),
        Access::Nobody => return Verdict::Deny(Deny::Closed),
    };
    let Requirement { roles, scopes, .. } = need;
    if !roles.is_empty() && !roles.iter().any(|r| identity.roles.contains(r)) {
        return Verdict::Deny(Deny::MissingRole {
            identity: Box::new(identity),
            required: roles.clone(),
        });
    }
    if !scopes.iter().all(|s| identity.scopes.contains(s)) {
        return Verdict::Deny(Deny::MissingScope {
            identity: Box::new(identity),
            required: scopes.clone(),
        });
    }
    if let Some(denied) = lacking(&identity) {
        return Verdict::Deny(denied);
    }
    match shortfall(need, &identity, now) {
        Some(shortfall) => Verdict::Deny(Deny::StepUp {
            identity: Box::new(identity),
            acr: need.acr.clone(),
            max_age: need.max_age,
            shortfall,
        }),
        None => Verdict::Allow(Some(identity)),
    }
}

/// RFC 9470: an unknown `acr` or `auth_time` never meets a requirement. An `auth_time` ahead
/// of `now` (clock skew) counts as now.
fn shortfall(need: &Requirement, identity: &Identity, now: u64) -> Option<Shortfall> {
    let acr_ok = need.acr.is_empty()
        || (identity.acr.as_ref()).is_some_and(|acr| need.acr.iter().any(|a| a == acr));
    if !acr_ok {
        return Some(Shortfall::Acr);
    }
    let recent =
        |max_age: u64| (identity.auth_time).is_some_and(|at| now.saturating_sub(at) <= max_age);
    match need.max_age {
        Some(max_age) if !recent(max_age) => Some(Shortfall::Age),
        _ => None,
    }
}
