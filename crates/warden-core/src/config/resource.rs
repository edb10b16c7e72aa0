//! `[server] resource`: warden's protected resource metadata (RFC 9728), served at its
//! well-known URL and named in every Bearer challenge, so a client that gets a 401 can find
//! the authorization servers to ask for a token.

use std::net::IpAddr;

use http::Uri;
use serde::Serialize;
use toml::Spanned;

use super::error::Issues;
use super::raw::RawServer;

/// The well-known path segment of RFC 9728 §3.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The protected resource, when `server.resource` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceConfig {
    /// The resource identifier, exactly as written (`https://api.example`).
    pub resource: String,
    /// Issuer identifiers of the authorization servers that issue tokens for it.
    pub authorization_servers: Vec<String>,
    /// Scopes clients may ask for, when listed.
    pub scopes_supported: Option<Vec<String>>,
    /// A human-readable name, when given.
    pub resource_name: Option<String>,
    /// Where the metadata is (RFC 9728 §3.1), named in `resource_metadata`.
    pub metadata_url: String,
    /// The path warden answers the metadata on: [`WELL_KNOWN`] plus the resource's path.
    pub metadata_path: String,
    /// The metadata document (RFC 9728 §2), JSON, built once at load.
    pub document: String,
}

/// RFC 9728 §2, in the order the RFC lists the members.
#[derive(Serialize)]
struct Document<'a> {
    resource: &'a str,
    authorization_servers: &'a [String],
    bearer_methods_supported: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes_supported: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<&'a str>,
}

/// Checks the resource keys of `[server]`; `None` when `resource` is unset or broken.
pub(super) fn resource(raw: &RawServer, issues: &mut Issues<'_>) -> Option<ResourceConfig> {
    let Some(resource) = &raw.resource else {
        orphans(raw, issues);
        return None;
    };
    let parsed = https_url(resource.get_ref());
    if let Err(why) = &parsed {
        issues.add("server.resource", resource.span(), *why);
    }
    let servers = authorization_servers(raw, resource.span(), issues);
    let scopes = scopes(raw.scopes_supported.as_ref(), issues);
    let name = raw.resource_name.as_ref().and_then(|n| {
        let ok = !n.get_ref().trim().is_empty() && !n.get_ref().chars().any(char::is_control);
        if !ok {
            let why = "must be non-empty, without control characters";
            issues.add("server.resource_name", n.span(), why);
        }
        ok.then(|| n.get_ref().clone())
    });
    let (origin, path) = parsed.ok()?;
    let suffix = path.trim_end_matches('/');
    let mut config = ResourceConfig {
        resource: resource.get_ref().clone(),
        authorization_servers: servers?,
        scopes_supported: scopes?,
        resource_name: name,
        metadata_url: format!("{origin}{WELL_KNOWN}{suffix}"),
        metadata_path: format!("{WELL_KNOWN}{suffix}"),
        document: String::new(),
    };
    config.document = document(&config);
    Some(config)
}

fn document(config: &ResourceConfig) -> String {
    let doc = Document {
        resource: &config.resource,
        authorization_servers: &config.authorization_servers,
        bearer_methods_supported: ["header"],
        scopes_supported: config.scopes_supported.as_deref(),
        resource_name: config.resource_name.as_deref(),
    };
    // Strings and lists of strings always serialize.
    serde_json::to_string(&doc).unwrap_or_default()
}

/// The other keys mean nothing without `resource`.
fn orphans(raw: &RawServer, issues: &mut Issues<'_>) {
    let spans = [
        (
            "authorization_servers",
            raw.authorization_servers.as_ref().map(Spanned::span),
        ),
        (
            "scopes_supported",
            raw.scopes_supported.as_ref().map(Spanned::span),
        ),
        (
            "resource_name",
            raw.resource_name.as_ref().map(Spanned::span),
        ),
    ];
    for (key, span) in spans {
        if let Some(span) = span {
            issues.add(format!("server.{key}"), span, "needs `server.resource`");
        }
    }
}

fn authorization_servers(
    raw: &RawServer,
    resource_span: std::ops::Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<Vec<String>> {
    let key = "server.authorization_servers";
    let Some(list) = &raw.authorization_servers else {
        let why = "is required with `server.resource`: list the issuers clients get tokens from";
        issues.add(key, resource_span, why);
        return None;
    };
    if list.get_ref().is_empty() {
        issues.add(
            key,
            list.span(),
            "name at least one issuer, like `https://idp.example`",
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.get_ref().len());
    let mut broken = false;
    for issuer in list.get_ref() {
        match https_url(issuer.get_ref()) {
            Ok(_) => out.push(issuer.get_ref().clone()),
            Err(why) => {
                issues.add(key, issuer.span(), format!("`{}`: {why}", issuer.get_ref()));
                broken = true;
            }
        }
    }
    (!broken).then_some(out)
}

/// `None` when broken; `Some(None)` when not listed.
fn scopes(
    raw: Option<&Spanned<Vec<Spanned<String>>>>,
    issues: &mut Issues<'_>,
) -> Option<Option<Vec<String>>> {
    let Some(list) = raw else { return Some(None) };
    let key = "server.scopes_supported";
    if list.get_ref().is_empty() {
        issues.add(key, list.span(), "name at least one scope, or leave it out");
        return None;
    }
    // RFC 6749 §3.3 scope-token: visible ASCII but `"` and `\`.
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    let mut broken = false;
    for scope in list.get_ref() {
        if !token(scope.get_ref()) {
            let why = format!("`{}` is not a scope token", scope.get_ref());
            issues.add(key, scope.span(), why);
            broken = true;
        }
    }
    let scopes = list.get_ref().iter().map(|s| s.get_ref().clone()).collect();
    (!broken).then_some(Some(scopes))
}

/// An absolute `https://` URL (`http://` only to a loopback host), without user info, query
/// or fragment: its origin (`https://api.example`) and path (`/v1`, or `/` when empty).
fn https_url(text: &str) -> Result<(String, String), &'static str> {
    const SHAPE: &str = "must be an absolute https:// URL without query or fragment, like `https://api.example` (http:// only for localhost)";
    if text.contains(['#', '?']) {
        return Err(SHAPE);
    }
    let uri: Uri = text.parse().map_err(|_| SHAPE)?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(SHAPE);
    };
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(SHAPE);
    }
    let secure = scheme.eq_ignore_ascii_case("https");
    if !(secure || scheme.eq_ignore_ascii_case("http") && loopback(authority.host())) {
        return Err(SHAPE);
    }
    let origin = format!("{}://{}", scheme.to_ascii_lowercase(), authority.as_str());
    let path = match uri.path() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    Ok((origin, path))
}

fn loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http_without_query_or_fragment() {
        let ok = |t: &str| https_url(t).unwrap();
        assert_eq!(
            ok("https://api.example"),
            ("https://api.example".into(), "/".into())
        );
        assert_eq!(
            ok("https://api.example/v1/"),
            ("https://api.example".into(), "/v1/".into())
        );
        assert_eq!(
            ok("HTTPS://api.example:8443/a"),
            ("https://api.example:8443".into(), "/a".into())
        );
        assert_eq!(ok("http://localhost:4180").1, "/");
        assert_eq!(ok("http://127.0.0.1/x").1, "/x");
        assert_eq!(ok("http://[::1]:8080").0, "http://[::1]:8080");
        for bad in [
            "http://api.example",
            "https://api.example/#x",
            "https://api.example/?a=1",
            "https://u@api.example",
            "/v1",
            "api.example",
            "ftp://api.example",
            "https://",
            "https://api example",
        ] {
            assert!(https_url(bad).is_err(), "{bad}");
        }
    }
}
