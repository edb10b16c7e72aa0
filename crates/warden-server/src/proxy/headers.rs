//! Header rewriting between client and upstream: hop-by-hop fields out, identity and
//! `X-Forwarded-*` in, client copies of what warden owns removed.

use std::net::IpAddr;

use http::header::{CONNECTION, COOKIE, HOST, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue};
use warden_core::cookies;

/// Hop-by-hop fields (RFC 9110 §7.6.1), plus the proxy-only ones a client must not pass on.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
];

/// Cookies that belong to warden and never reach the upstream when stripping is on.
const OWN_COOKIES: [&str; 3] = [
    cookies::SESSION,
    cookies::SESSION_HOST,
    cookies::LOGIN_MARKER,
];

/// What the rewrite of one allowed request needs to know.
pub struct Forwarding<'a> {
    /// The TCP peer.
    pub peer: IpAddr,
    /// Whether the peer is a trusted proxy (its `X-Forwarded-*` are kept and extended).
    pub trusted: bool,
    /// Whether the client reached warden over TLS.
    pub tls: bool,
    /// The host the client asked for (`Host` or the HTTP/2 authority).
    pub host: Option<&'a str>,
    /// Identity headers and the decision id, from the rendered allow answer.
    pub identity: &'a HeaderMap,
    /// Header names warden owns: any client copy is removed.
    pub owned: &'a [HeaderName],
    /// Drop `Authorization`.
    pub strip_authorization: bool,
    /// Drop warden's cookies.
    pub strip_session_cookie: bool,
    /// `X-Request-Id` for the upstream: a trusted proxy's, else the decision id.
    pub request_id: &'a str,
}

/// The value of `Upgrade` when the request asks for a WebSocket. No other protocol is passed
/// on: an `h2c` upgrade tunnelled to the upstream would carry later requests past warden.
pub fn upgrade(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"));
    let protocol = headers.get(UPGRADE)?;
    let websocket = protocol.to_str().is_ok_and(|p| {
        p.split(',')
            .map(|t| t.trim().split('/').next().unwrap_or_default())
            .all(|t| t.eq_ignore_ascii_case("websocket"))
    });
    (asks && websocket).then(|| protocol.clone())
}

/// Rewrites a client's request headers for the upstream.
pub fn to_upstream(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    let upgrade = upgrade(headers);
    remove_hop_by_hop(headers);
    if let Some(protocol) = upgrade {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, protocol);
    }
    for name in f.owned {
        headers.remove(name);
    }
    for (name, value) in f.identity {
        headers.insert(name.clone(), value.clone());
    }
    if let Some(host) = f.host.filter(|_| !headers.contains_key(HOST))
        && let Ok(v) = HeaderValue::from_str(host)
    {
        headers.insert(HOST, v);
    }
    forwarded_for(headers, f);
    request_id(headers, f);
    if f.strip_authorization {
        headers.remove(http::header::AUTHORIZATION);
    }
    if f.strip_session_cookie {
        strip_own_cookies(headers);
    }
}

/// The request id is always ours to set; trace context passes only from a trusted proxy.
fn request_id(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    use warden_core::request_id::{TRACEPARENT, X_REQUEST_ID};
    if let Ok(id) = HeaderValue::from_str(f.request_id) {
        headers.insert(X_REQUEST_ID, id);
    }
    if !f.trusted {
        headers.remove(TRACEPARENT);
        headers.remove("tracestate");
    }
}

/// Rewrites the upstream's response headers for the client; a `101` keeps its upgrade fields.
pub fn to_client(headers: &mut HeaderMap, switching: bool) {
    let upgrade = headers.get(UPGRADE).cloned().filter(|_| switching);
    remove_hop_by_hop(headers);
    if let Some(protocol) = upgrade {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, protocol);
    }
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = connection_tokens(headers)
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// `X-Forwarded-For/-Proto/-Host`: a trusted proxy's values are kept (its chain extended by
/// its own address); anyone else's are replaced, and their `Forwarded` dropped.
fn forwarded_for(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    let chain = f
        .trusted
        .then(|| joined(headers, "x-forwarded-for", ", "))
        .flatten();
    let peer = f.peer.to_string();
    let xff = chain.map_or_else(|| peer.clone(), |c| format!("{c}, {peer}"));
    set(headers, "x-forwarded-for", &xff);
    if !f.trusted {
        headers.remove("forwarded");
        headers.remove("x-forwarded-proto");
        headers.remove("x-forwarded-host");
    }
    if !headers.contains_key("x-forwarded-proto") {
        set(
            headers,
            "x-forwarded-proto",
            if f.tls { "https" } else { "http" },
        );
    }
    if !headers.contains_key("x-forwarded-host")
        && let Some(host) = headers.get(HOST).cloned()
    {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host);
    }
}

/// Removes warden's cookies; the rest are joined on one line (as HTTP/1.1 upstreams expect).
fn strip_own_cookies(headers: &mut HeaderMap) {
    let Some(all) = joined(headers, COOKIE.as_str(), "; ") else {
        return;
    };
    let kept: Vec<&str> = all
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n).trim();
            !OWN_COOKIES.contains(&name)
        })
        .collect();
    headers.remove(COOKIE);
    if !kept.is_empty() {
        set(headers, COOKIE.as_str(), &kept.join("; "));
    }
}

fn joined(headers: &HeaderMap, name: &str, separator: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(separator))
}

fn set(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn forwarding<'a>(identity: &'a HeaderMap, owned: &'a [HeaderName]) -> Forwarding<'a> {
        Forwarding {
            peer: "192.0.2.7".parse().unwrap(),
            trusted: false,
            tls: false,
            host: Some("app.example"),
            identity,
            owned,
            strip_authorization: false,
            strip_session_cookie: true,
            request_id: "69802f010000135288",
        }
    }

    #[test]
    fn untrusted_clients_lose_forged_and_hop_by_hop_fields() {
        let identity = map(&[("x-auth-subject", "alice")]);
        let owned = [HeaderName::from_static("x-auth-subject")];
        let mut h = map(&[
            ("host", "app.example"),
            ("connection", "close, x-hop"),
            ("x-hop", "1"),
            ("te", "trailers"),
            ("x-auth-subject", "mallory"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=10.0.0.1"),
            ("cookie", "a=1; warden_session=s; b=2"),
        ]);
        to_upstream(&mut h, &forwarding(&identity, &owned));
        assert_eq!(h.get("x-auth-subject").unwrap(), "alice");
        assert_eq!(h.get_all("x-auth-subject").iter().count(), 1);
        for gone in ["connection", "x-hop", "te", "forwarded"] {
            assert!(h.get(gone).is_none(), "{gone} survived");
        }
        assert_eq!(h.get("x-forwarded-for").unwrap(), "192.0.2.7");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "app.example");
        assert_eq!(h.get("cookie").unwrap(), "a=1; b=2");
    }

    #[test]
    fn trusted_proxies_chain_is_extended() {
        let identity = HeaderMap::new();
        let mut f = forwarding(&identity, &[]);
        f.trusted = true;
        let mut h = map(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "public.example"),
        ]);
        to_upstream(&mut h, &f);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "198.51.100.1, 192.0.2.7");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "https");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "public.example");
    }

    #[test]
    fn websocket_upgrades_keep_their_fields() {
        let identity = HeaderMap::new();
        let mut h = map(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
        ]);
        to_upstream(&mut h, &forwarding(&identity, &[]));
        assert_eq!(h.get("connection").unwrap(), "upgrade");
        assert_eq!(h.get("upgrade").unwrap(), "websocket");
        let mut r = map(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("keep-alive", "5"),
        ]);
        to_client(&mut r, true);
        assert_eq!(r.get("upgrade").unwrap(), "websocket");
        assert!(r.get("keep-alive").is_none());
        let mut r = map(&[("connection", "x-a"), ("x-a", "1"), ("upgrade", "h2c")]);
        to_client(&mut r, false);
        assert!(r.is_empty());
    }

    #[test]
    fn only_websocket_upgrades_are_passed_on() {
        let identity = HeaderMap::new();
        for protocol in ["h2c", "websocket, h2c", "TLS/1.0"] {
            let mut h = map(&[
                ("connection", "Upgrade, HTTP2-Settings"),
                ("upgrade", protocol),
            ]);
            assert!(upgrade(&h).is_none(), "{protocol}");
            to_upstream(&mut h, &forwarding(&identity, &[]));
            assert!(h.get("upgrade").is_none() && h.get("connection").is_none());
        }
        let h = map(&[("connection", "upgrade"), ("upgrade", "WebSocket")]);
        assert_eq!(upgrade(&h).unwrap(), "WebSocket");
    }

    #[test]
    fn only_warden_cookies_are_stripped() {
        let identity = HeaderMap::new();
        let mut h = map(&[("cookie", "warden_session=x"), ("cookie", "theme=dark")]);
        to_upstream(&mut h, &forwarding(&identity, &[]));
        assert_eq!(h.get("cookie").unwrap(), "theme=dark");
        let mut h = map(&[("cookie", "__Host-warden_session=x; warden_signed_in=1")]);
        to_upstream(&mut h, &forwarding(&identity, &[]));
        assert!(h.get("cookie").is_none());
    }
}
