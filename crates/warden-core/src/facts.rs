//! Request facts: what is judged, read from the request and, only from trusted proxies,
//! from the forwarding headers.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, Method, Uri, header};

use crate::credentials::RawCredentials;
use crate::negotiate::{self, BodyKind};
use crate::network::NetworkPolicy;

/// Which forwarding headers describe the original request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardSource {
    /// Traefik and Caddy: `X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto`, `-For`.
    Forwarded,
    /// nginx `auth_request`: `X-Original-URI` and `X-Original-Method` only, since nginx passes
    /// the client's own `X-Forwarded-*` through.
    NginxOriginal,
}

/// Everything the engine needs to know about one request.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    /// The judged method.
    pub method: Method,
    /// The judged path, raw (normalized by the engine).
    pub path: String,
    /// The judged host, lowercase, without port.
    pub host: Option<String>,
    /// The client address (see [`NetworkPolicy::client_ip`]).
    pub client: IpAddr,
    /// Credential headers, raw.
    pub credentials: RawCredentials,
    /// Which body format the caller understands.
    pub body_kind: BodyKind,
    /// Whether the response must have no body (`HEAD`).
    pub head: bool,
}

/// The parts of an HTTP request facts are read from.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Method of the request warden received.
    pub method: &'a Method,
    /// Target of the request warden received.
    pub uri: &'a Uri,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// The TCP peer.
    pub peer: IpAddr,
}

/// Reads the facts, believing forwarding headers only from trusted peers.
pub fn read(
    req: RequestParts<'_>,
    policy: &NetworkPolicy,
    source: ForwardSource,
    api_key_header: Option<&HeaderName>,
) -> RequestFacts {
    let trusted = policy.is_trusted(req.peer);
    let (method, target, host) = if trusted {
        forwarded_target(req, source)
    } else {
        (None, None, None)
    };
    let target = target.unwrap_or_else(|| {
        req.uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned()
    });
    let (path, query) = target
        .split_once('?')
        .map_or((target.as_str(), ""), |(p, q)| (p, q));
    let xff = req
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    // nginx passes client headers through untouched, so its flavour believes no address header.
    let client = match source {
        ForwardSource::Forwarded => policy.client_ip(req.peer, xff),
        ForwardSource::NginxOriginal => policy.client_ip(req.peer, std::iter::empty()),
    };
    RequestFacts {
        method: method.unwrap_or_else(|| req.method.clone()),
        path: path.to_owned(),
        host: host.or_else(|| own_host(req)).map(|h| strip_port(&h)),
        client,
        credentials: raw_credentials(req.headers, query, api_key_header),
        body_kind: negotiate::body_kind(req.headers),
        head: req.method == Method::HEAD,
    }
}

type Target = (Option<Method>, Option<String>, Option<String>);

fn forwarded_target(req: RequestParts<'_>, source: ForwardSource) -> Target {
    let text = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (method, uri, host) = match source {
        ForwardSource::Forwarded => (
            "x-forwarded-method",
            "x-forwarded-uri",
            text("x-forwarded-host"),
        ),
        ForwardSource::NginxOriginal => ("x-original-method", "x-original-uri", None),
    };
    let method = text(method).and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    (method, text(uri), host)
}

fn own_host(req: RequestParts<'_>) -> Option<String> {
    req.headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri.host().map(str::to_owned))
}

fn strip_port(host: &str) -> String {
    let host = host.trim();
    let bare = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    bare.to_ascii_lowercase()
}

fn raw_credentials(
    headers: &HeaderMap,
    query: &str,
    api_key: Option<&HeaderName>,
) -> RawCredentials {
    let values = |name: &HeaderName| -> Vec<Vec<u8>> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()
    };
    RawCredentials {
        authorization: values(&header::AUTHORIZATION),
        api_key: api_key.map(values).unwrap_or_default(),
        query_token: query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("access_token")),
        largest_cookie: headers
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.len())
            .max()
            .unwrap_or(0),
    }
}
