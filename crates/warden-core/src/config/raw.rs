//! The configuration file exactly as written: serde structs, unknown keys rejected.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub version: Spanned<i64>,
    pub server: Spanned<RawServer>,
    #[serde(default)]
    pub authn: RawAuthn,
    #[serde(default)]
    pub network: RawNetwork,
    pub login: Option<Spanned<RawLogin>>,
    pub proxy: Option<Spanned<RawProxy>>,
    #[serde(default)]
    pub limits: RawLimits,
    pub store: Option<Spanned<super::backends::RawStore>>,
    pub state: Option<Spanned<super::backends::RawState>>,
    pub policy: Option<Spanned<super::policy::RawPolicy>>,
    pub admin: Option<Spanned<super::operate::RawAdmin>>,
    pub audit: Option<Spanned<super::operate::RawAudit>>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Spanned<RawRule>>,
}

/// `[login]`: the sign-in page and browser sessions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogin {
    pub enabled: Option<bool>,
    pub idle_seconds: Option<Spanned<i64>>,
    pub absolute_seconds: Option<Spanned<i64>>,
    #[serde(default)]
    pub redirect_origins: Vec<Spanned<String>>,
    pub public_url: Option<Spanned<String>>,
}

/// `[limits]`: failed attempts allowed per minute before 429.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub failures_per_ip: Option<Spanned<i64>>,
    pub failures_per_user: Option<Spanned<i64>>,
    pub window_seconds: Option<Spanned<i64>>,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Spanned<String>,
    pub realm: Spanned<String>,
    #[serde(default)]
    pub data_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub identity_headers: Option<RawIdentityHeaders>,
    pub upstream: Option<Spanned<String>>,
    pub tls: Option<Spanned<RawTls>>,
    pub resource: Option<Spanned<String>>,
    pub authorization_servers: Option<Spanned<Vec<Spanned<String>>>>,
    pub scopes_supported: Option<Spanned<Vec<Spanned<String>>>>,
    pub resource_name: Option<Spanned<String>>,
    pub watch: Option<bool>,
}

/// `[server.tls]`: PEM certificate chain and private key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: Spanned<String>,
    pub key: Spanned<String>,
}

/// `[proxy]`: how allowed requests reach `server.upstream`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    pub connect_timeout_seconds: Option<Spanned<i64>>,
    pub timeout_seconds: Option<Spanned<i64>>,
    pub strip_authorization: Option<bool>,
    pub strip_session_cookie: Option<bool>,
    pub http2: Option<bool>,
}

/// `[server.identity_headers]`: names of the headers an allow answer carries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentityHeaders {
    pub subject: Option<Spanned<String>>,
    pub roles: Option<Spanned<String>>,
    pub scopes: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
}

/// `[authn]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthn {
    pub jwt: Option<Spanned<RawJwt>>,
    pub basic: Option<Spanned<RawBasic>>,
    pub api_key: Option<Spanned<RawApiKey>>,
    #[serde(default)]
    pub oidc: Vec<Spanned<super::oidc::RawOidc>>,
    pub introspection: Option<Spanned<super::introspection::RawIntrospection>>,
}

/// `[authn.jwt]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    pub jwks_file: Option<Spanned<String>>,
    pub jwks_url: Option<Spanned<String>>,
    pub issuer: Option<Spanned<String>>,
    pub audience: Option<Spanned<OneOrMany>>,
    pub roles_claim: Option<Spanned<String>>,
    pub scopes_claim: Option<Spanned<String>>,
    pub leeway_seconds: Option<Spanned<i64>>,
    pub typ: Option<Spanned<OneOrMany>>,
    pub refresh_seconds: Option<Spanned<i64>>,
    pub dangerous_allow_http_jwks_url: Option<bool>,
}

/// A string or an array of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// `[authn.basic]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBasic {
    pub htpasswd: Option<Spanned<String>>,
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
}

/// `[authn.api_key]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiKey {
    pub header: Option<Spanned<String>>,
}

/// `[network]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    #[serde(default)]
    pub trusted_proxies: Vec<Spanned<String>>,
    pub nginx_client_header: Option<Spanned<String>>,
}

/// One `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub methods: Option<Spanned<Vec<String>>>,
    pub host: Option<Spanned<String>>,
    pub allow: Option<Spanned<String>>,
    pub require: Option<Spanned<RawRequire>>,
    #[serde(default)]
    pub hide: bool,
    pub authn: Option<Spanned<Vec<String>>>,
    pub login: Option<Spanned<bool>>,
    #[serde(default)]
    pub show_required: bool,
    pub cors: Option<Spanned<RawCors>>,
    pub when: super::policy::RawWhen,
}

/// `cors = { origins = [...], credentials = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    pub origins: Vec<Spanned<String>>,
    #[serde(default)]
    pub credentials: bool,
    pub max_age: Option<u32>,
}

/// `require = "authenticated"` or `require = { roles = [...], scopes = [...], acr = [...],
/// max_age = N }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRequire {
    Word(String),
    Table(RawRequireTable),
}

/// The table form of `require`. Unknown keys are collected, not refused by serde: a shape
/// error would stop at the first problem and lose the key's name inside the untagged enum,
/// so `rules` reports them, with their rule, among the other problems. `acr` and `max_age`
/// are plain values for the same reason: a wrong type is reported with its key.
#[derive(Debug, Deserialize)]
pub struct RawRequireTable {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub acr: Option<toml::Value>,
    pub max_age: Option<toml::Value>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, toml::Value>,
}
