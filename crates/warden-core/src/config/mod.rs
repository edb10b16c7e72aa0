//! Configuration: the raw TOML shape, then a typed, ready-to-run [`Config`].

mod backends;
mod edge;
mod error;
mod introspection;
mod login;
mod nginx;
mod oidc;
mod operate;
mod policy;
mod raw;
mod require;
mod resource;
mod rules;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::HeaderName;
use ipnet::IpNet;
use toml::Spanned;

pub use backends::{StateBackend, StateConfig, StoreBackend, StoreConfig, UrlSetting, expand_env};
pub use edge::{ProxyConfig, TlsConfig};
use error::Issues;
pub use error::{ConfigErrors, ConfigIssue};
pub use introspection::IntrospectionConfig;
pub use login::LoginConfig;
pub use nginx::{NginxNote, Severity, nginx_notes};
pub use oidc::{OidcProvider, SecretSource};
pub use operate::{AdminConfig, AuditConfig, AuditSink};
use raw::{RawAuthn, RawConfig, RawJwt, RawNetwork, RawServer};
pub use resource::ResourceConfig;

use crate::jwt::JwtPolicy;
use crate::network::NetworkPolicy;
use crate::rules::RuleSet;

/// The whole configuration, typed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The realm named in every challenge.
    pub realm: String,
    /// Directory of the embedded store.
    pub data_dir: PathBuf,
    /// Names of the identity headers on an allow answer.
    pub identity_headers: IdentityHeaders,
    /// JWT bearer tokens, when enabled.
    pub jwt: Option<JwtConfig>,
    /// Bearer tokens checked at an authorization server (RFC 7662), when enabled.
    pub introspection: Option<IntrospectionConfig>,
    /// Basic against the user store, when enabled.
    pub basic: bool,
    /// An Apache htpasswd file checked besides the store, when configured.
    pub htpasswd: Option<HtpasswdConfig>,
    /// API keys, when enabled: the header they may come in.
    pub api_key_header: Option<HeaderName>,
    /// Client networks.
    pub network: NetworkPolicy,
    /// The request headers rule conditions read (`context.headers`), and only those.
    pub policy_headers: Vec<HeaderName>,
    /// The login page and browser sessions, when enabled.
    pub login: Option<LoginConfig>,
    /// Failed attempts allowed per minute.
    pub limits: Limits,
    /// Ordered rules.
    pub rules: RuleSet,
    /// Reverse-proxy mode, when `server.upstream` is set.
    pub proxy: Option<ProxyConfig>,
    /// The TLS listener, when `[server.tls]` is set.
    pub tls: Option<TlsConfig>,
    /// Where users, API keys and sessions live.
    pub store: StoreConfig,
    /// Where replicas share failed-attempt counters and revocations.
    pub state: StateConfig,
    /// The protected resource metadata (RFC 9728), when `server.resource` is set.
    pub resource: Option<ResourceConfig>,
    /// The operators' listener, when `[admin]` is set.
    pub admin: Option<AdminConfig>,
    /// The audit trail, when `[audit]` is set.
    pub audit: Option<AuditConfig>,
    /// Reload when the configuration or a file it names changes (`server.watch`).
    pub watch: bool,
}

/// `[limits]`, typed: failures per minute before 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failed password or key checks per client address.
    pub per_ip: u32,
    /// Failed password checks per user name (existing or not).
    pub per_user: u32,
    /// The counting window, in seconds (60: "per minute").
    pub window_seconds: u32,
}

/// Header names for the caller's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHeaders {
    /// Subject (user, key name, token `sub`).
    pub subject: HeaderName,
    /// Roles, comma-separated.
    pub roles: HeaderName,
    /// Scopes, space-separated.
    pub scopes: HeaderName,
    /// `jwt`, `basic` or `api_key`.
    pub method: HeaderName,
}

/// `[authn.basic] htpasswd = "…"` with `[authn.basic.roles]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtpasswdConfig {
    /// The file, reloaded when it changes.
    pub path: PathBuf,
    /// Roles of the file's users (the file itself holds none).
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
}

/// Where verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A JWKS file, read at start and on reload.
    File(PathBuf),
    /// A JWKS URL, fetched and refreshed.
    Url(String),
}

/// `[authn.jwt]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// Where keys come from.
    pub source: KeySource,
    /// Claim checks.
    pub policy: JwtPolicy,
    /// How often a JWKS URL is refreshed.
    pub refresh: Duration,
}

impl Config {
    /// Parses and checks a configuration; relative paths are taken from `base_dir`
    /// (the directory of the file).
    pub fn parse(source: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
        let mut raw: RawConfig =
            toml::from_str(source).map_err(|e| error::from_toml_error(source, &e))?;
        let mut issues = Issues::new(source);
        if *raw.version.get_ref() != 1 {
            issues.add(
                "version",
                raw.version.span(),
                "only `version = 1` is supported",
            );
        }
        let server = server(raw.server.get_ref(), base_dir, &mut issues);
        let proxy = edge::proxy(
            raw.server.get_ref().upstream.as_ref(),
            raw.proxy,
            &mut issues,
        );
        let tls = edge::tls(raw.server.get_ref().tls.as_ref(), base_dir);
        let htpasswd = raw
            .authn
            .basic
            .as_ref()
            .and_then(|b| htpasswd(b, base_dir, &mut issues));
        let providers = std::mem::take(&mut raw.authn.oidc);
        let providers = oidc::providers(providers, base_dir, &mut issues);
        let introspection = (raw.authn.introspection.take())
            .and_then(|i| introspection::introspection(i, base_dir, &mut issues));
        let (jwt, basic, api_key_header) = authn(raw.authn, base_dir, &mut issues);
        let network = network(&raw.network, &mut issues);
        let login = login::login(raw.login, basic, providers, &mut issues);
        let limits = limits(&raw.limits, &mut issues);
        let available = crate::rules::Schemes {
            jwt: jwt.is_some(),
            basic,
            api_key: api_key_header.is_some(),
            session: login.is_some(),
            introspection: introspection.is_some(),
        };
        let oidc = login.as_ref().is_some_and(|l| !l.providers.is_empty());
        let rules = rules::rules(raw.rules, available, oidc, raw.policy, &mut issues);
        let resource = resource::resource(raw.server.get_ref(), &mut issues);
        let data_dir = server.as_ref().map(|s| s.2.clone()).unwrap_or_default();
        let store = backends::store(raw.store, &data_dir, base_dir, &mut issues);
        let state = backends::state(raw.state, base_dir, &mut issues);
        let admin = operate::admin(raw.admin, &mut issues);
        let audit = operate::audit(raw.audit, base_dir, &mut issues);
        let watch = raw.server.get_ref().watch.unwrap_or(false);
        issues.finish()?;
        let (Some((listen, realm, data_dir, identity_headers)), Some((rules, policy_headers))) =
            (server, rules)
        else {
            return Err(ConfigErrors { issues: Vec::new() });
        };
        Ok(Config {
            listen,
            realm,
            data_dir,
            identity_headers,
            jwt,
            introspection,
            basic,
            htpasswd,
            api_key_header,
            network,
            login,
            limits,
            rules,
            policy_headers: policy_headers
                .into_iter()
                .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok())
                .collect(),
            proxy,
            tls,
            store,
            state,
            resource,
            admin,
            audit,
            watch,
        })
    }
}

type Server = (SocketAddr, String, PathBuf, IdentityHeaders);

fn server(raw: &RawServer, base_dir: &Path, issues: &mut Issues<'_>) -> Option<Server> {
    let listen = raw.listen.get_ref().parse::<SocketAddr>();
    if listen.is_err() {
        issues.add(
            "server.listen",
            raw.listen.span(),
            "expected an address like `127.0.0.1:4180`",
        );
    }
    let realm = raw.realm.get_ref();
    if realm.is_empty() || realm.chars().any(char::is_control) {
        issues.add(
            "server.realm",
            raw.realm.span(),
            "must be non-empty, without control characters",
        );
    }
    let data_dir = raw
        .data_dir
        .as_ref()
        .map_or_else(|| base_dir.join("data"), |d| base_dir.join(d.get_ref()));
    let headers = raw.identity_headers.as_ref();
    let name = |key: &str,
                value: Option<&Spanned<String>>,
                default: &'static str,
                issues: &mut Issues<'_>| {
        header_name(
            &format!("server.identity_headers.{key}"),
            value,
            default,
            issues,
        )
    };
    let identity_headers = IdentityHeaders {
        subject: name(
            "subject",
            headers.and_then(|h| h.subject.as_ref()),
            "x-auth-subject",
            issues,
        )?,
        roles: name(
            "roles",
            headers.and_then(|h| h.roles.as_ref()),
            "x-auth-roles",
            issues,
        )?,
        scopes: name(
            "scopes",
            headers.and_then(|h| h.scopes.as_ref()),
            "x-auth-scopes",
            issues,
        )?,
        method: name(
            "method",
            headers.and_then(|h| h.method.as_ref()),
            "x-auth-method",
            issues,
        )?,
    };
    Some((listen.ok()?, realm.clone(), data_dir, identity_headers))
}

fn header_name(
    key: &str,
    value: Option<&Spanned<String>>,
    default: &'static str,
    issues: &mut Issues<'_>,
) -> Option<HeaderName> {
    let Some(value) = value else {
        return Some(HeaderName::from_static(default));
    };
    let parsed = HeaderName::from_bytes(value.get_ref().as_bytes()).ok();
    if parsed.is_none() {
        issues.add(
            key,
            value.span(),
            format!("`{}` is not a valid header name", value.get_ref()),
        );
    }
    parsed
}

fn authn(
    raw: RawAuthn,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> (Option<JwtConfig>, bool, Option<HeaderName>) {
    let jwt = raw.jwt.and_then(|j| jwt(j, base_dir, issues));
    let api_key = raw.api_key.and_then(|k| {
        let header = k.into_inner().header;
        header_name("authn.api_key.header", header.as_ref(), "x-api-key", issues)
    });
    (jwt, raw.basic.is_some(), api_key)
}

fn htpasswd(
    raw: &Spanned<raw::RawBasic>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<HtpasswdConfig> {
    let span = raw.span();
    let raw = raw.get_ref();
    if raw.htpasswd.is_none() && !raw.roles.is_empty() {
        issues.add(
            "authn.basic.roles",
            span,
            "roles are for `htpasswd` users; store users get theirs from `warden user add --role`",
        );
    }
    raw.htpasswd.as_ref().map(|path| HtpasswdConfig {
        path: base_dir.join(path.get_ref()),
        roles: raw.roles.clone(),
    })
}

fn jwt(raw: Spanned<RawJwt>, base_dir: &Path, issues: &mut Issues<'_>) -> Option<JwtConfig> {
    let span = raw.span();
    let raw = raw.into_inner();
    let source = match (&raw.jwks_file, &raw.jwks_url) {
        (Some(file), None) => Some(KeySource::File(base_dir.join(file.get_ref()))),
        (None, Some(url)) => jwks_url(
            url,
            raw.dangerous_allow_http_jwks_url.unwrap_or(false),
            issues,
        ),
        _ => {
            issues.add(
                "authn.jwt",
                span.clone(),
                "set exactly one of `jwks_file` and `jwks_url`",
            );
            None
        }
    };
    let issuer = required(raw.issuer, "authn.jwt.issuer", span.clone(), issues);
    let audience =
        required(raw.audience, "authn.jwt.audience", span, issues).map(raw::OneOrMany::into_vec);
    let leeway = non_negative(raw.leeway_seconds, "authn.jwt.leeway_seconds", 30, issues);
    let refresh = non_negative(
        raw.refresh_seconds,
        "authn.jwt.refresh_seconds",
        300,
        issues,
    )
    .max(10);
    let policy = JwtPolicy {
        issuer: issuer?,
        audience: audience?,
        roles_claim: raw
            .roles_claim
            .map_or_else(|| "roles".into(), Spanned::into_inner),
        scopes_claim: raw
            .scopes_claim
            .map_or_else(|| "scope".into(), Spanned::into_inner),
        leeway,
        typ: raw.typ.map(|t| t.into_inner().into_vec()),
    };
    Some(JwtConfig {
        source: source?,
        policy,
        refresh: Duration::from_secs(refresh),
    })
}

fn jwks_url(url: &Spanned<String>, allow_http: bool, issues: &mut Issues<'_>) -> Option<KeySource> {
    let value = url.get_ref();
    let https = value.starts_with("https://");
    let http_ok = allow_http && value.starts_with("http://");
    if !(https || http_ok) {
        let hint =
            "must be an https:// URL (set `dangerous_allow_http_jwks_url = true` for plain http)";
        issues.add("authn.jwt.jwks_url", url.span(), hint);
        return None;
    }
    Some(KeySource::Url(value.clone()))
}

fn required<T>(
    value: Option<Spanned<T>>,
    key: &str,
    span: std::ops::Range<usize>,
    issues: &mut Issues<'_>,
) -> Option<T> {
    if value.is_none() {
        issues.add(key, span, "is required");
    }
    value.map(Spanned::into_inner)
}

pub(super) fn non_negative(
    value: Option<Spanned<i64>>,
    key: &str,
    default: u64,
    issues: &mut Issues<'_>,
) -> u64 {
    let Some(value) = value else { return default };
    u64::try_from(*value.get_ref()).unwrap_or_else(|_| {
        issues.add(key, value.span(), "must not be negative");
        default
    })
}

fn network(raw: &RawNetwork, issues: &mut Issues<'_>) -> NetworkPolicy {
    let nets = |key: &str, list: &[Spanned<String>], issues: &mut Issues<'_>| -> Vec<IpNet> {
        list.iter()
            .filter_map(|entry| {
                let text = entry.get_ref();
                let parsed = text
                    .parse::<IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from));
                if parsed.is_err() {
                    issues.add(
                        key,
                        entry.span(),
                        format!("`{text}` is not an address or CIDR block"),
                    );
                }
                parsed.ok()
            })
            .collect()
    };
    NetworkPolicy {
        deny: nets("network.deny", &raw.deny, issues),
        allow: nets("network.allow", &raw.allow, issues),
        trusted_proxies: nets("network.trusted_proxies", &raw.trusted_proxies, issues),
        nginx_client_header: raw
            .nginx_client_header
            .as_ref()
            .and_then(|h| header_name("network.nginx_client_header", Some(h), "x-real-ip", issues)),
    }
}

/// Login is on by default whenever a password authenticator is configured.
fn limits(raw: &raw::RawLimits, issues: &mut Issues<'_>) -> Limits {
    let mut one = |value: &Option<Spanned<i64>>, key: &str, default: u32| match value {
        None => default,
        Some(v) => u32::try_from(*v.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                issues.add(key, v.span(), "must be a positive number");
                default
            }),
    };
    Limits {
        per_ip: one(&raw.failures_per_ip, "limits.failures_per_ip", 20),
        per_user: one(&raw.failures_per_user, "limits.failures_per_user", 10),
        window_seconds: one(&raw.window_seconds, "limits.window_seconds", 60),
    }
}
