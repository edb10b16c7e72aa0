//! `[server] upstream`, `[proxy]` and `[server.tls]`: how warden faces clients and upstreams.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Uri;
use toml::Spanned;

use super::error::Issues;
use super::raw::{RawProxy, RawTls};

/// Reverse-proxy mode: where allowed requests go, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// `http://host:port` of the upstream.
    pub upstream: Uri,
    /// An upstream that does not accept a connection within this is down (502).
    pub connect_timeout: Duration,
    /// An upstream that sends no response head within this timed out (504).
    pub timeout: Duration,
    /// Drop `Authorization` before the upstream.
    pub strip_authorization: bool,
    /// Drop warden's session cookie before the upstream.
    pub strip_session_cookie: bool,
    /// Speak HTTP/2 cleartext (prior knowledge) to the upstream.
    pub http2: bool,
}

/// `[server.tls]`, typed: PEM files read at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

pub(super) fn proxy(
    upstream: Option<&Spanned<String>>,
    raw: Option<Spanned<RawProxy>>,
    issues: &mut Issues<'_>,
) -> Option<ProxyConfig> {
    let Some(upstream) = upstream else {
        if let Some(raw) = raw {
            issues.add(
                "proxy",
                raw.span(),
                "needs `server.upstream`: without it warden is a decision server",
            );
        }
        return None;
    };
    let uri = upstream_uri(upstream, issues)?;
    let raw = raw.map(Spanned::into_inner).unwrap_or_default();
    let mut seconds = |value: Option<Spanned<i64>>, key: &str, default: u64| match value {
        None => Duration::from_secs(default),
        Some(v) => match u64::try_from(*v.get_ref()) {
            Ok(n) if (1..=3600).contains(&n) => Duration::from_secs(n),
            _ => {
                issues.add(key, v.span(), "must be between 1 and 3600 seconds");
                Duration::from_secs(default)
            }
        },
    };
    Some(ProxyConfig {
        upstream: uri,
        connect_timeout: seconds(
            raw.connect_timeout_seconds,
            "proxy.connect_timeout_seconds",
            5,
        ),
        timeout: seconds(raw.timeout_seconds, "proxy.timeout_seconds", 30),
        strip_authorization: raw.strip_authorization.unwrap_or(false),
        strip_session_cookie: raw.strip_session_cookie.unwrap_or(true),
        http2: raw.http2.unwrap_or(false),
    })
}

fn upstream_uri(raw: &Spanned<String>, issues: &mut Issues<'_>) -> Option<Uri> {
    let text = raw.get_ref().trim_end_matches('/');
    let ok = text
        .parse::<Uri>()
        .ok()
        .filter(|u| u.scheme_str() == Some("http") && u.host().is_some())
        .filter(|u| u.path() == "/" || u.path().is_empty())
        .filter(|u| u.query().is_none() && !text.contains('@'));
    if ok.is_none() {
        issues.add(
            "server.upstream",
            raw.span(),
            format!(
                "`{}` is not an upstream like `http://127.0.0.1:8080` (http, host and port, no path)",
                raw.get_ref()
            ),
        );
    }
    ok
}

pub(super) fn tls(raw: Option<&Spanned<RawTls>>, base_dir: &Path) -> Option<TlsConfig> {
    raw.map(|t| TlsConfig {
        cert: base_dir.join(t.get_ref().cert.get_ref()),
        key: base_dir.join(t.get_ref().key.get_ref()),
    })
}
