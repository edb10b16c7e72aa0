//! Ordered access rules compiled into one path matcher.

use std::sync::Arc;

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};
use http::Method;

/// The authentication schemes a rule accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schemes {
    /// JWT bearer tokens.
    pub jwt: bool,
    /// Basic against the user store.
    pub basic: bool,
    /// `wdn_` API keys, as bearer tokens or in the API-key header.
    pub api_key: bool,
    /// Browser sessions from the login page.
    pub session: bool,
    /// Bearer tokens checked at the authorization server (RFC 7662 introspection).
    pub introspection: bool,
}

impl Schemes {
    /// Whether a `Bearer` challenge is offered.
    pub fn bearer(self) -> bool {
        self.jwt || self.api_key || self.introspection
    }

    /// Whether no scheme at all is accepted.
    pub fn is_empty(self) -> bool {
        !(self.bearer() || self.basic || self.session)
    }

    /// No scheme.
    pub const NONE: Schemes = Schemes {
        jwt: false,
        basic: false,
        api_key: false,
        session: false,
        introspection: false,
    };
}

/// What a rule asks of an authenticated caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Any one of these roles (empty: no role needed).
    pub roles: Vec<String>,
    /// All of these scopes (empty: no scope needed).
    pub scopes: Vec<String>,
    /// Any one of these authentication context classes (`acr`; empty: any, RFC 9470).
    pub acr: Vec<String>,
    /// The user must have authenticated at most this many seconds ago (`auth_time`).
    pub max_age: Option<u64>,
}

impl Requirement {
    /// Whether the rule asks how the user signed in (`acr` or `max_age`), not only who.
    pub fn steps_up(&self) -> bool {
        !self.acr.is_empty() || self.max_age.is_some()
    }
}

/// Who a rule lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everyone, without reading credentials.
    Anyone,
    /// No one: the route is closed.
    Nobody,
    /// Authenticated callers meeting the requirement.
    Authenticated(Requirement),
}

/// One rule, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's position in the file (0 for the first), for per-rule metrics.
    pub index: usize,
    /// The rule's name, shown in logs and `warden check`.
    pub name: String,
    /// The path pattern as written (`/tenants/{tenant}/**`).
    pub pattern: String,
    /// The glob matched: the pattern with named segments as `*`.
    pub path: String,
    /// The pattern's named segments, read for conditions.
    pub captures: crate::captures::Captures,
    /// Conditions that must all hold (Cedar expressions), when the rule has any.
    pub conditions: Option<Arc<crate::policy::Conditions>>,
    /// Methods this rule applies to (`None`: all).
    pub methods: Option<Vec<Method>>,
    /// Host this rule applies to, lowercase without port (`None`: all).
    pub host: Option<String>,
    /// Who gets through.
    pub access: Access,
    /// Answer 404 instead of 403 on a denial.
    pub hide: bool,
    /// Accepted authentication schemes.
    pub schemes: Schemes,
    /// Browser navigations that need a login are sent to the login page.
    pub login: bool,
    /// The forbidden page names the roles or scopes that are missing.
    pub show_required: bool,
    /// Cross-origin access, when enabled.
    pub cors: Option<Cors>,
}

/// A rule's CORS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Exact allowed origins (`scheme://host[:port]`).
    pub origins: Vec<String>,
    /// Whether credentials (cookies, `Authorization`) may be sent.
    pub credentials: bool,
    /// How long a browser may cache a preflight, in seconds.
    pub max_age: u32,
}

impl Cors {
    /// Whether this origin is allowed (exact, ASCII case-insensitive match).
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// The ordered rules and one compiled matcher over all their paths.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
    matcher: GlobSet,
    /// Matcher pattern index → rule index (a `/x/**` rule has two patterns).
    owners: Vec<usize>,
}

/// A path glob that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid path pattern: {0}")]
pub struct PatternError(String);

/// Compiles one glob with `/` as a literal separator.
pub fn compile_pattern(pattern: &str) -> Result<globset::Glob, PatternError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| PatternError(e.kind().to_string()))
}

impl RuleSet {
    /// Builds the matcher; `/admin/**` also covers `/admin` itself.
    pub fn new(rules: Vec<Rule>) -> Result<Self, PatternError> {
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            builder.add(compile_pattern(&rule.path)?);
            owners.push(index);
            if let Some(base) = rule.path.strip_suffix("/**").filter(|b| !b.is_empty()) {
                builder.add(compile_pattern(base)?);
                owners.push(index);
            }
        }
        let matcher = builder.build().map_err(|e| PatternError(e.to_string()))?;
        let rules = rules.into_iter().map(Arc::new).collect();
        Ok(Self {
            rules,
            matcher,
            owners,
        })
    }

    /// The first rule, in file order, matching the normalized path, method and host.
    pub fn find(&self, path: &str, method: &Method, host: Option<&str>) -> Option<&Arc<Rule>> {
        let candidate = Candidate::new(path);
        let mut hits = self.matcher.matches_candidate(&candidate);
        for hit in &mut hits {
            *hit = self.owners[*hit];
        }
        hits.sort_unstable();
        hits.into_iter()
            .map(|i| &self.rules[i])
            .find(|rule| rule.applies_to(method, host))
    }

    /// The rules in order.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }
}

impl Rule {
    fn applies_to(&self, method: &Method, host: Option<&str>) -> bool {
        let method_ok = self
            .methods
            .as_ref()
            .is_none_or(|methods| methods.contains(method));
        let host_ok = self
            .host
            .as_ref()
            .is_none_or(|want| host.is_some_and(|h| h.eq_ignore_ascii_case(want)));
        method_ok && host_ok
    }
}
