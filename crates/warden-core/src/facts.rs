//! Request facts: what is judged, read from the request and, only from trusted proxies,
//! from the forwarding headers.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, Method, Uri, header};

use crate::config::Config;
use crate::cookies;
use crate::credentials::RawCredentials;
use crate::negotiate::{self, BodyKind};

/// The request headers read here that `http` has no constant for. A `&str` name is parsed
/// and validated on every lookup; these are built at compile time.
mod names {
    use http::HeaderName;

    pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
    pub const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
    pub const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");
    pub const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
    pub const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
    pub const SEC_FETCH_DEST: HeaderName = HeaderName::from_static("sec-fetch-dest");
    pub const X_REQUESTED_WITH: HeaderName = HeaderName::from_static("x-requested-with");
}

/// Which forwarding headers describe the original request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardSource {
    /// Traefik and Caddy: `X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto`, `-For`.
    Forwarded,
    /// nginx `auth_request`: `X-Original-URI` and `X-Original-Method` only, since nginx passes
    /// the client's own `X-Forwarded-*` through.
    NginxOriginal,
    /// Reverse-proxy mode: the request itself is judged; a trusted front proxy still tells the
    /// client address, host and scheme (`X-Forwarded-For/-Host/-Proto`).
    Direct,
}

/// Everything the engine needs to know about one request.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    /// The judged method.
    pub method: Method,
    /// The judged path, raw (normalized by the engine).
    pub path: String,
    /// The judged path and query as the client sent them: the return address after login.
    pub target: String,
    /// The judged host, lowercase, without port.
    pub host: Option<String>,
    /// The judged authority (`host[:port]`), lowercase: with `secure`, this gateway's origin
    /// as the browser sees it.
    pub authority: Option<String>,
    /// The client address (see [`crate::network::NetworkPolicy::client_ip`]).
    pub client: IpAddr,
    /// Credential headers, raw.
    pub credentials: RawCredentials,
    /// Which body format the caller understands.
    pub body_kind: BodyKind,
    /// Whether the response must have no body (`HEAD`).
    pub head: bool,
    /// The `Origin` of a cross-origin (CORS) request.
    pub origin: Option<String>,
    /// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    pub preflight: Option<Preflight>,
    /// Whether the client reached us over https (directly or per a trusted proxy).
    pub secure: bool,
    /// A browser script (`fetch`/XHR: `Sec-Fetch-Dest: empty` or `X-Requested-With`), which a
    /// Basic challenge would answer with the browser's own password dialog.
    pub script: bool,
    /// The client signed in within the last minute (see [`crate::cookies::LOGIN_MARKER`]).
    pub just_signed_in: bool,
    /// The headers rule conditions read (lowercase names), and only those.
    pub condition_headers: Vec<(String, String)>,
    /// The request id a trusted proxy sent (see [`crate::request_id`]).
    pub request_id: Option<String>,
}

/// What a CORS preflight asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// `Access-Control-Request-Method`.
    pub method: String,
    /// `Access-Control-Request-Headers`, as sent.
    pub headers: Option<String>,
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
    /// Whether it arrived on warden's own TLS listener.
    pub tls: bool,
}

/// Reads the facts, believing forwarding headers only from trusted peers.
pub fn read(req: RequestParts<'_>, config: &Config, source: ForwardSource) -> RequestFacts {
    let policy = &config.network;
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
        .get_all(names::X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok());
    // nginx passes client headers through untouched, so its flavour believes only the address
    // header its recipe overwrites, and only when the configuration names it.
    let client = match source {
        ForwardSource::Forwarded | ForwardSource::Direct => policy.client_ip(req.peer, xff),
        ForwardSource::NginxOriginal => {
            let named = policy.nginx_client_header.as_ref();
            let real = named.and_then(|n| req.headers.get(n)?.to_str().ok());
            policy.client_ip(req.peer, real.into_iter())
        }
    };
    let method = method.unwrap_or_else(|| req.method.clone());
    let authority = host
        .or_else(|| own_host(req))
        .map(|h| h.trim().to_ascii_lowercase());
    let text = |name: &HeaderName| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // `Origin: null` (sandboxed or opaque origins) is kept: it matches no allowed origin and
    // no CSRF check, but still marks a cross-origin request and a preflight.
    let origin = text(&header::ORIGIN);
    let preflight = (method == Method::OPTIONS && origin.is_some())
        .then(|| text(&header::ACCESS_CONTROL_REQUEST_METHOD))
        .flatten()
        .map(|m| Preflight {
            method: m,
            headers: text(&header::ACCESS_CONTROL_REQUEST_HEADERS),
        });
    let secure = req.tls
        || trusted
            && source != ForwardSource::NginxOriginal
            && text(&names::X_FORWARDED_PROTO).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    RequestFacts {
        path: path.to_owned(),
        target: target.clone(),
        authority: authority.clone(),
        host: authority.as_deref().map(strip_port),
        client,
        credentials: raw_credentials(
            req.headers,
            query,
            config.api_key_header.as_ref(),
            config.login.is_some(),
        ),
        body_kind: negotiate::body_kind(req.headers),
        head: req.method == Method::HEAD,
        origin,
        preflight,
        secure,
        script: text(&names::SEC_FETCH_DEST).is_some_and(|d| d.eq_ignore_ascii_case("empty"))
            || text(&names::X_REQUESTED_WITH)
                .is_some_and(|x| x.eq_ignore_ascii_case("XMLHttpRequest")),
        just_signed_in: cookies::value(req.headers, cookies::LOGIN_MARKER).is_some(),
        condition_headers: condition_headers(req.headers, config),
        request_id: trusted
            .then(|| crate::request_id::read(req.headers))
            .flatten(),
        method,
    }
}

/// The headers rule conditions read, values joined with `, `; never a credential header
/// (`config` refuses those names, and the API-key header is skipped here).
fn condition_headers(headers: &HeaderMap, config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in &config.policy_headers {
        if config.api_key_header.as_ref() == Some(name) {
            continue;
        }
        let values: Vec<&str> = (headers.get_all(name).iter())
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !values.is_empty() {
            out.push((name.as_str().to_owned(), values.join(", ")));
        }
    }
    out
}

type Target = (Option<Method>, Option<String>, Option<String>);

fn forwarded_target(req: RequestParts<'_>, source: ForwardSource) -> Target {
    let text = |name: &HeaderName| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (method, uri, host) = match source {
        ForwardSource::Forwarded => (
            names::X_FORWARDED_METHOD,
            names::X_FORWARDED_URI,
            text(&names::X_FORWARDED_HOST),
        ),
        ForwardSource::NginxOriginal => (names::X_ORIGINAL_METHOD, names::X_ORIGINAL_URI, None),
        ForwardSource::Direct => return (None, None, text(&names::X_FORWARDED_HOST)),
    };
    let method = text(&method).and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    (method, text(&uri), host)
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
    sessions: bool,
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
        query_token: crate::credentials::query_has_access_token(query),
        largest_cookie: headers
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.len())
            .max()
            .unwrap_or(0),
        session: sessions
            .then(|| cookies::session(headers).map(str::to_owned))
            .flatten(),
    }
}

impl RequestFacts {
    /// This gateway's origin as the browser sees it (`https://gw.example`), when known.
    pub fn own_origin(&self) -> Option<String> {
        let scheme = if self.secure { "https" } else { "http" };
        self.authority.as_ref().map(|a| format!("{scheme}://{a}"))
    }

    /// Whether the browser talks to a loopback host (cookies may then go without `Secure`).
    pub fn loopback(&self) -> bool {
        self.host.as_deref().is_some_and(|h| {
            h == "localhost"
                || h.ends_with(".localhost")
                || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        })
    }
}
