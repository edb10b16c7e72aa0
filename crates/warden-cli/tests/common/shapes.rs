//! Requests shaped exactly as Envoy (`ext_authz`, HTTP service) and Traefik (`forwardAuth`)
//! send them to warden, following the example configs (`examples/envoy/envoy.yaml`,
//! `examples/traefik/dynamic.yml`, whose header lists are read here). Neither proxy can be
//! installed on this machine, so their side of the contract is reproduced, not run.

use std::net::SocketAddr;

use super::front::examples_dir;
use super::{Response, send};

/// Where the client connects from, as the proxy reports it.
pub const CLIENT_IP: &str = "198.51.100.7";

/// One client request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Client<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub host: &'a str,
    pub ip: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Client<'a> {
    /// `GET target` to `app.example` from [`CLIENT_IP`], no headers.
    pub fn get(target: &'a str) -> Self {
        Self {
            method: "GET",
            target,
            host: "app.example",
            ip: CLIENT_IP,
            headers: Vec::new(),
        }
    }

    pub fn method(self, method: &'a str) -> Self {
        Self { method, ..self }
    }

    pub fn host(self, host: &'a str) -> Self {
        Self { host, ..self }
    }

    pub fn ip(self, ip: &'a str) -> Self {
        Self { ip, ..self }
    }

    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// The proxies whose requests are reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Envoy,
    Traefik,
}

impl Shape {
    /// What warden answers when this proxy, configured as its example, asks about `client`.
    pub fn ask(self, warden: SocketAddr, client: &Client<'_>) -> Response {
        match self {
            Self::Envoy => Envoy::from_example().check(warden, client),
            Self::Traefik => Traefik::from_example().check(warden, client),
        }
    }
}

/// The items of the YAML block list under the first `key:` line (`- exact: cookie` gives
/// `exact: cookie`, `- X-Auth-Subject` gives `X-Auth-Subject`); a `patterns:` line between
/// the key and its items is skipped.
pub fn yaml_list(text: &str, key: &str) -> Vec<String> {
    let mut lines = text.lines().map(str::trim);
    assert!(
        lines.any(|l| l == format!("{key}:")),
        "no `{key}:` in the example"
    );
    lines
        .skip_while(|l| *l == "patterns:")
        .map_while(|l| l.strip_prefix("- "))
        .map(str::to_owned)
        .collect()
}

/// The example's lines that are not comments.
fn live_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim_start().starts_with('#'))
}

/// Envoy's check request, as `examples/envoy/envoy.yaml` configures it.
pub struct Envoy {
    pub yaml: String,
    /// `authorization_request.allowed_headers`, as `exact: NAME` / `prefix: …`.
    pub allowed: Vec<String>,
    /// `authorization_response.allowed_upstream_headers`.
    pub upstream: Vec<String>,
}

impl Envoy {
    pub fn from_example() -> Self {
        let yaml = std::fs::read_to_string(examples_dir().join("envoy/envoy.yaml")).unwrap();
        Self {
            allowed: yaml_list(&yaml, "allowed_headers"),
            upstream: yaml_list(&yaml, "allowed_upstream_headers"),
            yaml,
        }
    }

    /// `allowed_upstream_headers`, as lowercase names.
    pub fn upstream_names(&self) -> Vec<String> {
        let names = self
            .upstream
            .iter()
            .map(|p| p.trim_start_matches("exact: "));
        names.map(str::to_ascii_lowercase).collect()
    }

    /// Whether a live (not commented) line of the example contains `text`.
    pub fn configures(&self, text: &str) -> bool {
        live_lines(&self.yaml).any(|l| l.contains(text))
    }

    /// Whether Envoy passes the client's header `name` on to warden: `Authorization` always,
    /// others when `allowed_headers` names them (Host, method, path and Content-Length are
    /// Envoy's own, see [`Envoy::check`]).
    pub fn passes(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        name == "authorization"
            || self.allowed.iter().any(|p| match p.split_once(": ") {
                Some(("exact", v)) => v == name,
                Some(("prefix", v)) => name.starts_with(v),
                _ => panic!("unexpected matcher {p:?}"),
            })
    }

    /// What warden receives for `client`: the same method and path (no `path_prefix`), `Host`, `Content-Length: 0` and no body,
    /// the client's headers Envoy passes, `X-Forwarded-For` with the client's address
    /// appended and `X-Forwarded-Proto` set by Envoy (`use_remote_address`), and an
    /// `x-envoy-*` header of Envoy's router, which warden ignores.
    pub fn check(&self, warden: SocketAddr, client: &Client<'_>) -> Response {
        let own = [
            "host",
            "content-length",
            "x-forwarded-for",
            "x-forwarded-proto",
        ];
        let prior: Vec<&str> = client
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
            .map(|(_, v)| *v)
            .chain([client.ip])
            .collect();
        let xff = prior.join(", ");
        let mut sent = vec![
            ("host", client.host),
            ("content-length", "0"),
            ("x-forwarded-for", xff.as_str()),
            ("x-forwarded-proto", "http"),
            ("x-envoy-expected-rq-timeout-ms", "2000"),
        ];
        sent.extend(
            client
                .headers
                .iter()
                .filter(|(n, _)| self.passes(n) && !own.contains(&n.to_ascii_lowercase().as_str())),
        );
        send(warden, client.method, client.target, &sent)
    }
}

/// Traefik's ForwardAuth request, as `examples/traefik/dynamic.yml` configures it.
pub struct Traefik {
    pub yaml: String,
    /// `forwardAuth.address`.
    pub address: String,
    /// `authResponseHeaders`.
    pub response_headers: Vec<String>,
}

impl Traefik {
    pub fn from_example() -> Self {
        let yaml = std::fs::read_to_string(examples_dir().join("traefik/dynamic.yml")).unwrap();
        let address = live_lines(&yaml)
            .find_map(|l| l.trim().strip_prefix("address: "))
            .expect("no forwardAuth address")
            .trim_matches('"')
            .to_owned();
        Self {
            response_headers: yaml_list(&yaml, "authResponseHeaders"),
            address,
            yaml,
        }
    }

    /// `authResponseHeaders`, as lowercase names.
    pub fn response_names(&self) -> Vec<String> {
        let names = self.response_headers.iter();
        names.map(|h| h.to_ascii_lowercase()).collect()
    }

    /// `address` without its scheme: `(authority, path)`.
    fn target(&self) -> (&str, &str) {
        let rest = self.address.split_once("://").map_or("", |(_, r)| r);
        rest.find('/').map_or((rest, "/"), |i| rest.split_at(i))
    }

    /// The path of `address` (what warden is asked about when it judges the request itself).
    pub fn address_path(&self) -> &str {
        self.target().1
    }

    /// What warden receives for `client`: always `GET <address>`, every client header but the hop-by-hop ones, and the request in
    /// `X-Forwarded-Method/-Proto/-Host/-Uri/-For` (`trustForwardHeader` behind an entry
    /// point that dropped the client's own X-Forwarded-*), plus the entry point's
    /// `X-Forwarded-Port`/`-Server` and `X-Real-Ip`.
    pub fn check(&self, warden: SocketAddr, client: &Client<'_>) -> Response {
        let hop = [
            "connection",
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
        ];
        let mut sent: Vec<(&str, &str)> = client
            .headers
            .iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                !hop.contains(&n.as_str()) && !n.starts_with("x-forwarded-") && n != "host"
            })
            .copied()
            .collect();
        sent.extend([
            ("Host", self.target().0),
            ("X-Forwarded-Method", client.method),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", client.host),
            ("X-Forwarded-Uri", client.target),
            ("X-Forwarded-For", client.ip),
            ("X-Forwarded-Port", "80"),
            ("X-Forwarded-Server", "traefik"),
            ("X-Real-Ip", client.ip),
        ]);
        send(warden, "GET", self.address_path(), &sent)
    }
}
