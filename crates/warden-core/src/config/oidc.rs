//! `[[authn.oidc]]`: sign-in through OpenID Providers (authorization code flow with PKCE).
//! Only the shape is checked here; discovery happens at start, in the server.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Issues;

/// One `[[authn.oidc]]` block as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub name: Spanned<String>,
    pub display_name: Option<Spanned<String>>,
    pub issuer: Spanned<String>,
    pub client_id: Spanned<String>,
    pub client_secret_file: Option<Spanned<String>>,
    pub client_secret_env: Option<Spanned<String>>,
    pub scopes: Option<Spanned<Vec<String>>>,
    pub roles_claim: Option<Spanned<String>>,
    pub subject_claim: Option<Spanned<String>>,
    pub dangerous_allow_http: Option<bool>,
}

/// Where a client secret is read at start: never written inline in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The first line of this file (a mounted secret).
    File(PathBuf),
    /// This environment variable.
    Env(String),
}

/// One identity provider, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// Short name, used in URLs and logs (`[a-z0-9_-]`, unique).
    pub name: String,
    /// What the sign-in button says.
    pub display_name: String,
    /// The issuer; discovery is at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// This relying party's client id at the provider.
    pub client_id: String,
    /// The client secret's source.
    pub client_secret: SecretSource,
    /// Scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// ID-token claim holding roles (a string array or a space-separated string).
    pub roles_claim: Option<String>,
    /// ID-token claim naming the subject (default `sub`).
    pub subject_claim: String,
    /// Plain `http://` allowed for the issuer and the endpoints it names (tests, loopback).
    pub allow_http: bool,
}

/// Checks every `[[authn.oidc]]` block.
pub(super) fn providers(
    raw: Vec<Spanned<RawOidc>>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Vec<OidcProvider> {
    let mut out: Vec<OidcProvider> = Vec::new();
    for (i, block) in raw.into_iter().enumerate() {
        let key = format!("authn.oidc[{i}]");
        let (span, name_span) = (block.span(), block.get_ref().name.span());
        let Some(provider) = provider(block.into_inner(), &key, span, base_dir, issues) else {
            continue;
        };
        if out.iter().any(|p| p.name == provider.name) {
            issues.add(
                format!("{key}.name"),
                name_span,
                format!("`{}` names two providers", provider.name),
            );
            continue;
        }
        out.push(provider);
    }
    out
}

fn provider(
    raw: RawOidc,
    key: &str,
    span: std::ops::Range<usize>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<OidcProvider> {
    let name = raw.name.get_ref();
    let name_ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !name_ok {
        let why = "must be 1 to 32 of `a-z`, `0-9`, `-`, `_`";
        issues.add(format!("{key}.name"), raw.name.span(), why);
    }
    let issuer = issuer(&raw, key, issues);
    let (file, env) = (
        raw.client_secret_file.as_ref(),
        raw.client_secret_env.as_ref(),
    );
    let secret = secret_source(file, env, key, span, base_dir, issues);
    let scopes = scopes(raw.scopes, key, issues);
    let client_id = raw.client_id.get_ref();
    if client_id.is_empty() || client_id.chars().any(char::is_control) {
        let why = "must be non-empty, without control characters";
        issues.add(format!("{key}.client_id"), raw.client_id.span(), why);
    }
    let claim = |value: Option<Spanned<String>>, field: &str, issues: &mut Issues<'_>| {
        let value = value?;
        if value.get_ref().is_empty() {
            issues.add(format!("{key}.{field}"), value.span(), "must not be empty");
            return None;
        }
        Some(value.into_inner())
    };
    let roles_claim = claim(raw.roles_claim, "roles_claim", issues);
    let subject_claim = claim(raw.subject_claim, "subject_claim", issues);
    let display_name = raw
        .display_name
        .map_or_else(|| name.clone(), Spanned::into_inner);
    Some(OidcProvider {
        name: name_ok.then(|| name.clone())?,
        display_name,
        issuer: issuer?,
        client_id: client_id.clone(),
        client_secret: secret?,
        scopes: scopes?,
        roles_claim,
        subject_claim: subject_claim.unwrap_or_else(|| "sub".to_owned()),
        allow_http: raw.dangerous_allow_http.unwrap_or(false),
    })
}

fn issuer(raw: &RawOidc, key: &str, issues: &mut Issues<'_>) -> Option<String> {
    let value = raw.issuer.get_ref();
    let allow_http = raw.dangerous_allow_http.unwrap_or(false);
    let scheme_ok = value.starts_with("https://") || (allow_http && value.starts_with("http://"));
    let rest = value.split_once("://").map_or("", |(_, rest)| rest);
    let shape_ok = !rest.is_empty() && !rest.starts_with('/') && !rest.contains(['?', '#', '@']);
    if scheme_ok && shape_ok {
        return Some(value.clone());
    }
    let why = if shape_ok {
        "must be an https:// URL (set `dangerous_allow_http = true` for plain http)"
    } else {
        "must be a URL like `https://idp.example`, without query, fragment or user info"
    };
    issues.add(format!("{key}.issuer"), raw.issuer.span(), why);
    None
}

/// Where a client secret comes from: exactly one of `client_secret_file` (relative to the
/// configuration's directory) and a non-empty `client_secret_env`.
pub(super) fn secret_source(
    file: Option<&Spanned<String>>,
    env: Option<&Spanned<String>>,
    key: &str,
    span: std::ops::Range<usize>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<SecretSource> {
    match (file, env) {
        (Some(file), None) => Some(SecretSource::File(base_dir.join(file.get_ref()))),
        (None, Some(env)) if !env.get_ref().is_empty() => {
            Some(SecretSource::Env(env.get_ref().clone()))
        }
        _ => {
            let why = "set exactly one of `client_secret_file` and `client_secret_env`";
            issues.add(key, span, why);
            None
        }
    }
}

fn scopes(
    raw: Option<Spanned<Vec<String>>>,
    key: &str,
    issues: &mut Issues<'_>,
) -> Option<Vec<String>> {
    let Some(raw) = raw else {
        return Some(["openid", "email", "profile"].map(str::to_owned).to_vec());
    };
    let span = raw.span();
    let mut scopes = raw.into_inner();
    let bad = scopes.iter().find(|s| {
        s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    });
    if let Some(bad) = bad {
        let why = format!("`{bad}` is not a scope token");
        issues.add(format!("{key}.scopes"), span, why);
        return None;
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    scopes.dedup();
    Some(scopes)
}
