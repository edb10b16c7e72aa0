//! `[authn.introspection]`: bearer tokens checked at an authorization server's RFC 7662
//! endpoint. Only the shape is checked here; the server reads the secret at start.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::SecretSource;
use super::error::Issues;
use super::raw::OneOrMany;
use crate::introspection::IntrospectionPolicy;

const KEY: &str = "authn.introspection";
/// Longest `cache_seconds`: a token revoked at the authorization server is accepted this long.
const MAX_CACHE_SECONDS: u64 = 3600;

/// `[authn.introspection]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntrospection {
    pub endpoint: Option<Spanned<String>>,
    pub client_id: Option<Spanned<String>>,
    pub client_secret_file: Option<Spanned<String>>,
    pub client_secret_env: Option<Spanned<String>>,
    pub roles_claim: Option<Spanned<String>>,
    pub scopes_claim: Option<Spanned<String>>,
    pub audience: Option<Spanned<OneOrMany>>,
    pub issuer: Option<Spanned<String>>,
    pub cache_seconds: Option<Spanned<i64>>,
    pub timeout_ms: Option<Spanned<i64>>,
    pub dangerous_allow_http: Option<bool>,
}

/// `[authn.introspection]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// The introspection endpoint (https, or http when allowed).
    pub endpoint: String,
    /// warden's client id at the authorization server.
    pub client_id: String,
    /// The client secret's source (sent with client_secret_basic).
    pub client_secret: SecretSource,
    /// What an active token must say.
    pub policy: IntrospectionPolicy,
    /// Longest time a positive answer is remembered (never beyond the token's `exp`).
    pub cache: Duration,
    /// Bound on each call.
    pub timeout: Duration,
}

/// Checks the section; `None` (with issues recorded) when it is broken.
pub(super) fn introspection(
    raw: Spanned<RawIntrospection>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<IntrospectionConfig> {
    let span = raw.span();
    let raw = raw.into_inner();
    let endpoint = endpoint(&raw, &span, issues);
    let client_id = client_id(raw.client_id.as_ref(), &span, issues);
    let (file, env) = (
        raw.client_secret_file.as_ref(),
        raw.client_secret_env.as_ref(),
    );
    let client_secret = super::oidc::secret_source(file, env, KEY, span, base_dir, issues);
    let policy = policy(&raw, issues);
    let cache = cache(raw.cache_seconds.as_ref(), issues);
    let timeout = super::backends::timeout(
        raw.timeout_ms.as_ref(),
        &format!("{KEY}.timeout_ms"),
        2000,
        issues,
    );
    Some(IntrospectionConfig {
        endpoint: endpoint?,
        client_id: client_id?,
        client_secret: client_secret?,
        policy: policy?,
        cache: cache?,
        timeout,
    })
}

fn endpoint(
    raw: &RawIntrospection,
    span: &Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<String> {
    let allow_http = raw.dangerous_allow_http.unwrap_or(false);
    let Some(raw) = &raw.endpoint else {
        issues.add(format!("{KEY}.endpoint"), span.clone(), "is required");
        return None;
    };
    let value = raw.get_ref();
    let scheme_ok = value.starts_with("https://") || (allow_http && value.starts_with("http://"));
    let rest = value.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let shape_ok = !authority.is_empty()
        && !authority.contains('@')
        && !value.contains('#')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if scheme_ok && shape_ok {
        return Some(value.clone());
    }
    let why = if shape_ok {
        "must be an https:// URL (set `dangerous_allow_http = true` for plain http)"
    } else {
        "must be a URL like `https://idp.example/oauth2/introspect`, without user info or fragment"
    };
    issues.add(format!("{KEY}.endpoint"), raw.span(), why);
    None
}

fn client_id(
    raw: Option<&Spanned<String>>,
    span: &Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<String> {
    let Some(raw) = raw else {
        issues.add(format!("{KEY}.client_id"), span.clone(), "is required");
        return None;
    };
    let value = raw.get_ref();
    if value.is_empty() || value.chars().any(char::is_control) {
        let why = "must be non-empty, without control characters";
        issues.add(format!("{KEY}.client_id"), raw.span(), why);
        return None;
    }
    Some(value.clone())
}

/// The claim checks; an optional text that is set must not be empty (`Err` when it is).
fn policy(raw: &RawIntrospection, issues: &mut Issues<'_>) -> Option<IntrospectionPolicy> {
    let mut text = |value: &Option<Spanned<String>>, field: &str| -> Result<Option<String>, ()> {
        let Some(value) = value else { return Ok(None) };
        if value.get_ref().is_empty() {
            issues.add(format!("{KEY}.{field}"), value.span(), "must not be empty");
            return Err(());
        }
        Ok(Some(value.get_ref().clone()))
    };
    let roles_claim = text(&raw.roles_claim, "roles_claim");
    let scopes_claim = text(&raw.scopes_claim, "scopes_claim");
    let issuer = text(&raw.issuer, "issuer");
    let audience = match &raw.audience {
        None => Some(Vec::new()),
        Some(list) => {
            let span = list.span();
            let list = list.get_ref().clone().into_vec();
            if list.is_empty() || list.iter().any(String::is_empty) {
                issues.add(
                    format!("{KEY}.audience"),
                    span,
                    "must name at least one audience, none empty",
                );
                None
            } else {
                Some(list)
            }
        }
    };
    Some(IntrospectionPolicy {
        issuer: issuer.ok()?,
        audience: audience?,
        roles_claim: roles_claim.ok()?,
        scopes_claim: scopes_claim.ok()?.unwrap_or_else(|| "scope".to_owned()),
    })
}

fn cache(raw: Option<&Spanned<i64>>, issues: &mut Issues<'_>) -> Option<Duration> {
    let Some(raw) = raw else {
        return Some(Duration::from_secs(60));
    };
    match u64::try_from(*raw.get_ref()) {
        Ok(seconds) if seconds <= MAX_CACHE_SECONDS => Some(Duration::from_secs(seconds)),
        _ => {
            let why = format!("must be between 0 and {MAX_CACHE_SECONDS} seconds");
            issues.add(format!("{KEY}.cache_seconds"), raw.span(), why);
            None
        }
    }
}
