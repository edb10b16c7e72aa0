//! The decision pipeline: facts → rule → network → credentials → identity → decision.

use crate::config::Config;
use crate::credentials::{self, Presented};
use crate::decision::{Credential, Decision, Deny, Pending, Shortfall, Step, Verdict};
use crate::facts::RequestFacts;
use crate::identity::{Authn, Identity, Rejection, TokenProblem};
use crate::path;
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

    /// Everything that needs no I/O: network, path, rule, credential syntax.
    pub fn begin(&self, facts: &RequestFacts) -> Step {
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
            Access::Anyone => Step::Decided(Decision {
                rule: Some(rule.clone()),
                verdict: Verdict::Allow(None),
            }),
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
                        }),
                        Err(why) => deny(Some(rule), why),
                    },
                }
            }
        }
    }

    /// Completes a decision once the credential has been judged; `now` (Unix seconds) dates
    /// the identity's `auth_time` against the rule's `max_age`.
    pub fn finish(&self, pending: Pending, authn: Authn, now: u64) -> Decision {
        let verdict = match authn {
            Authn::Authenticated(identity) => authorize(&pending.rule.access, identity, now),
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

/// Roles are any-of, scopes all-of; a missing role is decided first, since no scope helps then.
/// How the user signed in is judged last: a new sign-in cannot grant a role or a scope.
fn authorize(access: &Access, identity: Identity, now: u64) -> Verdict {
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
