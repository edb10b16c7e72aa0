//! A warden signing people in through a real `oidc-provider` (tests/oidc-provider), and a
//! browser-like agent to walk the flow with.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use serde_json::{Value, json};

use crate::common::op::{Op, OpAgent, query_param};
use crate::common::{Env, Response, Warden, closed_port};

/// The client warden is at the provider.
pub const CLIENT: &str = "warden";
pub const SECRET: &str = "warden-secret";

/// The one challenge of a rule that only takes the sign-in cookie.
pub const COOKIE_CHALLENGE: &str =
    r#"Cookie realm="example", form-action="/.warden/login", cookie-name="warden_session""#;

/// A provider and a warden using it.
pub struct Setup {
    pub op: Op,
    /// The second provider, when asked for.
    pub second: Option<Op>,
    pub warden: Warden,
    /// `http://127.0.0.1:PORT` of warden.
    pub base: String,
}

/// What differs between the tests' configurations.
#[derive(Clone)]
pub struct Options {
    /// `[authn.basic]` on (a password form besides the button).
    pub password: bool,
    /// A second provider (`second`, "Second OP") besides the first.
    pub second: bool,
    /// The provider's config (accounts, ttl, …) besides port, issuer and clients.
    pub op: Value,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            password: false,
            second: false,
            op: json!({
                "accounts": {
                    "alice": {"email": "alice@example.test", "groups": ["admin", "ops"]},
                    "bob": {"email": "bob@example.test", "groups": ["ops"]},
                },
                "refreshTokens": "grant",
            }),
        }
    }
}

/// The client registration for a warden on `port`.
pub fn client(port: u16) -> Value {
    let base = format!("http://127.0.0.1:{port}");
    json!({
        "client_id": CLIENT, "client_secret": SECRET,
        "redirect_uris": [format!("{base}/.warden/oidc/callback")],
        "post_logout_redirect_uris": [format!("{base}/.warden/login")],
        "backchannel_logout_uri": format!("{base}/.warden/oidc/backchannel"),
        "backchannel_logout_session_required": true,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    })
}

/// One `[[authn.oidc]]` block.
pub fn provider_block(name: &str, display: &str, issuer: &str, secret_file: &str) -> String {
    format!(
        r#"[[authn.oidc]]
name = "{name}"
display_name = "{display}"
issuer = "{issuer}"
client_id = "{CLIENT}"
client_secret_file = "{secret_file}"
scopes = ["openid", "email", "groups"]
roles_claim = "groups"
dangerous_allow_http = true
"#
    )
}

/// warden's configuration: `/private/**` for anyone signed in, `/admin/**` for `admin`,
/// `/strong/**` after a sign-in with `acr` `mfa`, `/fresh/**` within 5 minutes of one.
pub fn config(port: u16, providers: &str, password: bool) -> String {
    let basic = if password { "[authn.basic]\n" } else { "" };
    format!(
        r#"version = 1
[server]
listen = "127.0.0.1:{port}"
realm = "example"
{basic}{providers}
[login]
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
[[rule]]
name = "admin"
path = "/admin/**"
require = {{ roles = ["admin"] }}
[[rule]]
name = "strong"
path = "/strong/**"
require = {{ acr = ["mfa"] }}
[[rule]]
name = "fresh"
path = "/fresh/**"
require = {{ max_age = 300 }}
"#
    )
}

impl Setup {
    /// A provider, then a warden whose one provider it is.
    pub fn start(options: Options) -> Self {
        let port = closed_port();
        let mut op_config = options.op.clone();
        op_config["clients"] = json!([client(port)]);
        let op = Op::start(op_config.clone());
        let second = options.second.then(|| Op::start(op_config));
        let env = Env::new("");
        let secret = env.dir.path.join("client-secret");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        let secret = secret.display().to_string();
        let mut providers = provider_block("op", "Test OP", op.issuer(), &secret);
        if let Some(second) = &second {
            providers += &provider_block("second", "Second OP", second.issuer(), &secret);
        }
        std::fs::write(&env.config, config(port, &providers, options.password)).unwrap();
        let warden = env.serve();
        Self {
            op,
            second,
            warden,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Walks the whole sign-in from a protected page: the redirect to the sign-in page, the
    /// provider's forms, the callback. Returns the callback's answer (a 303 back to `path`).
    pub fn sign_in(&self, agent: &mut OpAgent, path: &str, login: &str) -> Response {
        let authorize = self.authorize_url(agent, path);
        let callback = agent.sign_in(&authorize, login, "any", None);
        assert!(
            callback.starts_with(&self.url("/.warden/oidc/callback?")),
            "{callback}"
        );
        agent.get(&callback)
    }

    /// From a protected page to the provider's authorization URL (not fetched).
    pub fn authorize_url(&self, agent: &mut OpAgent, path: &str) -> String {
        let r = agent.get(&self.url(path));
        assert_eq!(
            r.status, 302,
            "a navigation to {path} goes to sign in: {r:#?}"
        );
        let login = absolute(&self.base, r.header("location").unwrap());
        let r = agent.get(&login);
        assert_eq!(r.status, 302, "the only provider: straight there: {r:#?}");
        let authorize = r.header("location").unwrap().to_owned();
        assert!(authorize.starts_with(self.op.issuer()), "{authorize}");
        authorize
    }
}

/// `location` made absolute against `base`.
pub fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}

/// A query parameter of a URL, or a panic naming it.
pub fn param(url: &str, name: &str) -> String {
    query_param(url, name).unwrap_or_else(|| panic!("no `{name}` in {url}"))
}
