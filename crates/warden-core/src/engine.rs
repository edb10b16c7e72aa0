//! The decision pipeline: facts → rule → network → credentials → identity → decision.

use crate::config::Config;
use crate::credentials::{self, Presented};
use crate::decision::{Credential, Decision, Deny, Pending, Step, Verdict};
use crate::facts::RequestFacts;
use crate::identity::{Authn, Identity};
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

    /// Completes a decision once the credential has been judged.
    pub fn finish(&self, pending: Pending, authn: Authn) -> Decision {
        let verdict = match authn {
            Authn::Authenticated(identity) => authorize(&pending.rule.access, identity),
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
        Presented::Bearer(token)
            if schemes.api_key && (token.starts_with("wdn_") || !schemes.jwt) =>
        {
            Ok(Credential::ApiKey(token))
        }
        Presented::Bearer(token) if schemes.jwt => Ok(Credential::Jwt(token)),
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

/// Roles are any-of, scopes all-of; a missing role is decided first, since no scope helps then.
fn authorize(access: &Access, identity: Identity) -> Verdict {
    let (roles, scopes) = match access {
        Access::Authenticated(Requirement { roles, scopes }) => (roles, scopes),
        Access::Anyone => return Verdict::Allow(Some(identity)),
        Access::Nobody => return Verdict::Deny(Deny::Closed),
    };
    if !roles.is_empty() && !roles.iter().any(|r| identity.roles.contains(r)) {
        return Verdict::Deny(Deny::MissingRole {
            identity,
            required: roles.clone(),
        });
    }
    if !scopes.iter().all(|s| identity.scopes.contains(s)) {
        return Verdict::Deny(Deny::MissingScope {
            identity,
            required: scopes.clone(),
        });
    }
    Verdict::Allow(Some(identity))
}
