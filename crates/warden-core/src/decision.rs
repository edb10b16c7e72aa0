//! The engine's verdicts as values: every denial carries its reason and its rule.

use std::sync::Arc;

use crate::credentials::SendingError;
use crate::identity::{Identity, Rejection};
use crate::path::PathError;
use crate::policy::Unmet;
use crate::rules::Rule;

/// The answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule that decided, when one matched.
    pub rule: Option<Arc<Rule>>,
    /// What was decided.
    pub verdict: Verdict,
}

/// Allow or deny. Exhaustive on purpose: a new case must break every caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let the request through, with the caller's identity when one was proven.
    Allow(Option<Identity>),
    /// Refuse it, and why.
    Deny(Deny),
    /// A CORS preflight on a rule with CORS on: answered 204, never judged.
    Preflight,
}

impl Verdict {
    /// A short, stable name: `allow`, `preflight`, or the denial's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Allow(_) => "allow",
            Self::Preflight => "preflight",
            Self::Deny(why) => why.reason(),
        }
    }

    /// The caller, when one was proven: an allow's identity, or the one a denial concerns.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Self::Allow(identity) => identity.as_ref(),
            Self::Deny(why) => why.identity(),
            Self::Preflight => None,
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deny {
    /// The path cannot be normalized safely (400).
    BadPath(PathError),
    /// Credentials sent malformed, twice, or oversized (400 / 431).
    BadSending(SendingError),
    /// The client network is denied (403, before credentials are read).
    Network,
    /// No rule matches: default deny (403).
    NoRule,
    /// The rule lets no one in (403, or 404 when hidden).
    Closed,
    /// No usable credential was presented (401 with challenges, no error).
    Unauthenticated,
    /// The credential was judged and refused (401).
    Rejected(Rejection),
    /// Authenticated but missing one of the required scopes (403 `insufficient_scope`).
    MissingScope {
        /// Who asked (boxed: a denial stays small, and most carry no identity).
        identity: Box<Identity>,
        /// Every scope the rule requires.
        required: Vec<String>,
    },
    /// Authenticated but holding none of the required roles (403, or 404 when hidden).
    MissingRole {
        /// Who asked (boxed: a denial stays small, and most carry no identity).
        identity: Box<Identity>,
        /// The roles that would do.
        required: Vec<String>,
    },
    /// Authenticated, but not strongly or recently enough for the rule (401
    /// `insufficient_user_authentication`, RFC 9470): signing in again can help.
    StepUp {
        /// Who asked (boxed: a denial stays small, and most carry no identity).
        identity: Box<Identity>,
        /// The `acr` values that would do (empty: the rule sets none).
        acr: Vec<String>,
        /// The most seconds since the user authenticated (`None`: the rule sets none).
        max_age: Option<u64>,
        /// What fell short.
        shortfall: Shortfall,
    },
    /// A condition of the rule is false or could not be evaluated (403, or 404 when hidden).
    Condition {
        /// Who asked, when the rule needs an identity.
        identity: Option<Box<Identity>>,
        /// Which condition, and why.
        unmet: Unmet,
    },
    /// A key source or store is down, so nothing was judged (503, never 401).
    Unavailable,
    /// Too many failed attempts; nothing was judged (429).
    Throttled {
        /// Seconds until another attempt is allowed.
        retry_after: u64,
    },
}

impl Deny {
    /// A short, stable name for logs and `warden check` (never carries user data).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadPath(_) => "bad_path",
            Self::BadSending(SendingError::TooLarge) => "header_too_large",
            Self::BadSending(SendingError::Multiple) => "credentials_sent_twice",
            Self::BadSending(SendingError::Malformed) => "malformed_credentials",
            Self::Network => "network_denied",
            Self::NoRule => "no_rule",
            Self::Closed => "closed",
            Self::Unauthenticated => "unauthenticated",
            Self::Rejected(Rejection::BadPassword) => "bad_password",
            Self::Rejected(Rejection::SessionEnded) => "session_ended",
            Self::Rejected(Rejection::InvalidToken(problem)) => problem.as_str(),
            Self::MissingScope { .. } => "missing_scope",
            Self::MissingRole { .. } => "missing_role",
            Self::StepUp {
                shortfall: Shortfall::Acr,
                ..
            } => "insufficient_acr",
            Self::StepUp {
                shortfall: Shortfall::Age,
                ..
            } => "authentication_too_old",
            Self::Condition {
                unmet: Unmet::Failed { .. },
                ..
            } => "condition_failed",
            Self::Condition {
                unmet: Unmet::Error { .. },
                ..
            } => "condition_error",
            Self::Unavailable => "unavailable",
            Self::Throttled { .. } => "throttled",
        }
    }

    /// The authenticated caller a denial concerns, if any.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Self::MissingScope { identity, .. }
            | Self::MissingRole { identity, .. }
            | Self::StepUp { identity, .. } => Some(identity.as_ref()),
            Self::Condition { identity, .. } => identity.as_deref(),
            _ => None,
        }
    }
}

/// What a step-up denial found lacking; `acr` is judged first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    /// The identity has no `acr`, or one the rule does not list.
    Acr,
    /// The identity has no `auth_time`, or it is more than `max_age` seconds ago.
    Age,
}

/// A credential routed to the authenticator that judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A JWT bearer token.
    Jwt(String),
    /// A `wdn_` API key (bearer or header).
    ApiKey(String),
    /// A bearer token for the authorization server's introspection endpoint (RFC 7662).
    Introspection(String),
    /// A session cookie.
    Session(String),
    /// Basic user and password.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

impl Credential {
    /// The user name a failed attempt counts against, when there is one.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { user, .. } => Some(user),
            _ => None,
        }
    }
}

/// Where the engine stands after the synchronous part of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Decided without authenticating.
    Decided(Decision),
    /// A credential must be judged first, then handed to [`crate::Engine::finish`].
    Authenticate(Pending),
}

/// A request waiting for its credential to be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The matched rule.
    pub rule: Arc<Rule>,
    /// The credential to judge.
    pub credential: Credential,
    /// The normalized path (what conditions read).
    pub path: String,
}
