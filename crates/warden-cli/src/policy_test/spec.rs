//! The test file: TOML read with spans, then checked into cases ready to run.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use serde::Deserialize;
use toml::Spanned;
use warden_core::{AuthMethod, Config, Identity};
use warden_server::LoadError;

/// One test file, its configuration loaded.
pub struct TestFile {
    /// The file as named on the command line.
    pub path: PathBuf,
    /// The configuration it tests.
    pub config: Config,
    /// The Unix time every case is judged at.
    pub now: Option<u64>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One request and what warden must answer.
pub struct Case {
    pub name: String,
    /// Line of the case's `[[case]]` header.
    pub line: usize,
    pub column: usize,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub client: IpAddr,
    pub identity: Option<Identity>,
    pub expect: Expect,
}

/// What a case requires of the answer; `None` fields are not checked.
pub struct Expect {
    pub status: StatusCode,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub challenge: Option<String>,
    pub headers: Vec<(HeaderName, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    config: Spanned<String>,
    now: Option<u64>,
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    request: Spanned<String>,
    headers: Option<Spanned<BTreeMap<String, String>>>,
    client: Option<Spanned<String>>,
    identity: Option<RawIdentity>,
    expect: Spanned<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    subject: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    method: RawMethod,
    acr: Option<String>,
    auth_time: Option<u64>,
    claims: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawMethod {
    #[default]
    Jwt,
    Basic,
    Session,
    ApiKey,
    Oidc,
    Introspection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: u16,
    rule: Option<String>,
    reason: Option<String>,
    challenge: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Problems found in one file, each already a printable line.
pub type Problems = Vec<String>;

/// Reads and checks a test file and the configuration it names.
pub fn load(path: &Path) -> Result<TestFile, Problems> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{}: cannot read the file: {e}", path.display())])?;
    let at = |span: Range<usize>, message: &str| {
        let (line, column) = line_column(&text, span.start);
        format!("{}:{line}:{column}: {message}", path.display())
    };
    let raw: RawFile = toml::from_str(&text)
        .map_err(|e| vec![at(e.span().unwrap_or(0..0), e.message().trim())])?;
    let mut problems = Vec::new();
    let mut cases = Vec::new();
    for case in raw.case {
        let (line, column) = line_column(&text, case.span().start);
        match check_case(case.into_inner(), line, column) {
            Ok(c) => cases.push(c),
            Err((span, message)) => problems.push(at(span, &message)),
        }
    }
    if cases.is_empty() && problems.is_empty() {
        problems.push(at(0..0, "no `[[case]]` in the file"));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let config_path = base.join(raw.config.get_ref());
    let config = read_config(&config_path, |e| at(raw.config.span(), e));
    match config {
        Ok(config) if problems.is_empty() => Ok(TestFile {
            path: path.to_owned(),
            config,
            now: raw.now,
            cases,
        }),
        Ok(_) => Err(problems),
        Err(more) => Err(problems.into_iter().chain(more).collect()),
    }
}

/// The configuration, or its problems as `warden config check` prints them.
fn read_config(path: &Path, unreadable: impl FnOnce(&str) -> String) -> Result<Config, Problems> {
    match warden_server::read_config(path) {
        Ok(config) => Ok(config),
        Err(LoadError::Invalid { errors, .. }) => Err(crate::located(path, &errors)
            .lines()
            .map(str::to_owned)
            .collect()),
        Err(e) => Err(vec![unreadable(&e.to_string())]),
    }
}

type Bad = (Range<usize>, String);

fn check_case(raw: RawCase, line: usize, column: usize) -> Result<Case, Bad> {
    let (method, uri) = request_line(&raw.request)?;
    let headers = match &raw.headers {
        Some(h) => header_map(h.get_ref()).map_err(|m| (h.span(), m))?,
        None => HeaderMap::new(),
    };
    let client = match &raw.client {
        Some(c) => (c.get_ref().parse())
            .map_err(|_| (c.span(), format!("`{}` is not an IP address", c.get_ref())))?,
        None => IpAddr::from([127, 0, 0, 1]),
    };
    let expect = check_expect(raw.expect)?;
    Ok(Case {
        name: raw.name,
        line,
        column,
        method,
        uri,
        headers,
        client,
        identity: raw.identity.map(identity),
        expect,
    })
}

/// `METHOD SP TARGET`, the target in origin form (`/path?query`).
fn request_line(raw: &Spanned<String>) -> Result<(Method, Uri), Bad> {
    let bad = |m: String| (raw.span(), m);
    let text = raw.get_ref();
    let Some((method, target)) = text.split_once(' ') else {
        return Err(bad(format!("request `{text}` must be `METHOD /path`")));
    };
    if method.is_empty() || method.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(bad(format!(
            "method `{method}` must be uppercase, e.g. GET"
        )));
    }
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| bad(format!("`{method}` is not a method")))?;
    if !target.starts_with('/') || target.contains(' ') {
        return Err(bad(format!(
            "target `{target}` must be one path like /x?y=1"
        )));
    }
    let uri = (target.parse::<Uri>()).map_err(|e| bad(format!("target `{target}`: {e}")))?;
    Ok((method, uri))
}

fn header_map(raw: &BTreeMap<String, String>) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in raw {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| format!("header `{name}`: `{value}` is not a header value"))?;
        map.append(n, v);
    }
    Ok(map)
}

fn check_expect(raw: Spanned<RawExpect>) -> Result<Expect, Bad> {
    let span = raw.span();
    let raw = raw.into_inner();
    let status = StatusCode::from_u16(raw.status).map_err(|_| {
        (
            span.clone(),
            format!("status {} is not an HTTP status", raw.status),
        )
    })?;
    let mut headers = Vec::new();
    for (name, value) in raw.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| (span.clone(), format!("`{name}` is not a header name")))?;
        headers.push((n, value));
    }
    Ok(Expect {
        status,
        rule: raw.rule,
        reason: raw.reason,
        challenge: raw.challenge,
        headers,
    })
}

fn identity(raw: RawIdentity) -> Identity {
    let method = match raw.method {
        RawMethod::Jwt => AuthMethod::Jwt,
        RawMethod::Basic => AuthMethod::Basic,
        RawMethod::Session => AuthMethod::Session,
        RawMethod::ApiKey => AuthMethod::ApiKey,
        RawMethod::Oidc => AuthMethod::Oidc,
        RawMethod::Introspection => AuthMethod::Introspection,
    };
    Identity {
        subject: raw.subject,
        roles: raw.roles,
        scopes: raw.scopes,
        method,
        acr: raw.acr,
        auth_time: raw.auth_time,
        claims: raw.claims.map(Arc::new),
    }
}

/// 1-based line and column of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
