//! `[login]`: the sign-in page, browser sessions, and the identity providers it offers.

use toml::Spanned;

use super::error::Issues;
use super::oidc::OidcProvider;
use super::raw::RawLogin;

/// `[login]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginConfig {
    /// A session unused this long ends, in seconds.
    pub idle: i64,
    /// A session ends this long after sign-in whatever its use, in seconds.
    pub absolute: i64,
    /// Origins (`https://app.example`) a return address may point to besides this host.
    pub redirect_origins: Vec<String>,
    /// True when the page offers the password form (`[authn.basic]` is on).
    pub password: bool,
    /// Identity providers offered besides (or instead of) the password form.
    pub providers: Vec<OidcProvider>,
    /// The origin browsers reach warden at (`https://auth.example`), for the OIDC callback;
    /// without it, the origin of the request (trusted proxies' `X-Forwarded-*` included).
    pub public_url: Option<String>,
}

impl LoginConfig {
    /// The provider named `name`.
    pub fn provider(&self, name: &str) -> Option<&OidcProvider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// The one provider, when it is the only way in (no password form).
    pub fn sole_provider(&self) -> Option<&OidcProvider> {
        match self.providers.as_slice() {
            [only] if !self.password => Some(only),
            _ => None,
        }
    }
}

pub(super) fn login(
    raw: Option<Spanned<RawLogin>>,
    basic: bool,
    providers: Vec<OidcProvider>,
    issues: &mut Issues<'_>,
) -> Option<LoginConfig> {
    let span = raw.as_ref().map(Spanned::span);
    let raw = raw.map(Spanned::into_inner).unwrap_or_default();
    let way_in = basic || !providers.is_empty();
    let enabled = raw.enabled.unwrap_or(way_in);
    if enabled && !way_in {
        issues.add(
            "login",
            span.unwrap_or(0..0),
            "needs a way to sign in: add `[authn.basic]` or an `[[authn.oidc]]` provider",
        );
        return None;
    }
    let idle = seconds(raw.idle_seconds, "login.idle_seconds", 30 * 60, issues).max(60);
    let absolute = seconds(
        raw.absolute_seconds,
        "login.absolute_seconds",
        12 * 3600,
        issues,
    );
    let redirect_origins = raw
        .redirect_origins
        .into_iter()
        .filter_map(|o| origin(&o, "login.redirect_origins", issues))
        .collect();
    let public_url = raw
        .public_url
        .and_then(|o| origin(&o, "login.public_url", issues));
    enabled.then(|| LoginConfig {
        idle,
        absolute: absolute.max(idle),
        redirect_origins,
        password: basic,
        providers,
        public_url,
    })
}

fn seconds(value: Option<Spanned<i64>>, key: &str, default: u64, issues: &mut Issues<'_>) -> i64 {
    i64::try_from(super::non_negative(value, key, default, issues)).unwrap_or(i64::MAX)
}

/// `https://app.example` (lowercased, no trailing slash), or an issue.
fn origin(value: &Spanned<String>, key: &str, issues: &mut Issues<'_>) -> Option<String> {
    let text = value.get_ref().trim_end_matches('/').to_ascii_lowercase();
    let ok = (text.starts_with("https://") || text.starts_with("http://"))
        && !text
            .split_once("://")
            .is_some_and(|(_, rest)| rest.is_empty() || rest.contains(['/', '?', '#', '@']));
    if ok {
        return Some(text);
    }
    let why = format!(
        "`{}` is not an origin like `https://app.example`",
        value.get_ref()
    );
    issues.add(key, value.span(), why);
    None
}
