//! Proxy mode in the tests: the standard config pointed at an upstream, and what the echo
//! route says it received.

use super::tokens::token;
use super::upstream::Upstream;
use super::{BASIC, BEARER, Env, Response, Warden, bearer, replace, standard_config};

pub const OPEN_RULE: &str = "[[rule]]\nname = \"open\"\npath = \"/open/**\"\nallow = \"anyone\"\n";
pub const IDENTITY: [&str; 4] = [
    "x-auth-subject",
    "x-auth-roles",
    "x-auth-scopes",
    "x-auth-method",
];
pub const MIB: u64 = 1024 * 1024;

/// The standard config in proxy mode towards `upstream`, plus `/open/**` for anyone and
/// `proxy` (a `[proxy]` section, or nothing).
pub fn proxy_config(upstream: &str, proxy: &str) -> String {
    let line = format!("realm = \"example\"\nupstream = \"{upstream}\"\n");
    let config = replace(&standard_config(), "realm = \"example\"\n", &line);
    format!("{config}{OPEN_RULE}{proxy}")
}

/// The config with no trusted proxy.
pub fn untrusted(config: &str) -> String {
    let trusted = r#"trusted_proxies = ["127.0.0.1/32"]"#;
    replace(config, trusted, "trusted_proxies = []")
}

/// A fresh upstream and warden in front of it.
pub fn start(proxy: &str) -> (Upstream, Warden) {
    let up = Upstream::start();
    let warden = Env::new(&proxy_config(&up.url(), proxy)).serve();
    (up, warden)
}

/// alice, role admin, scope orders:write.
pub fn admin() -> String {
    bearer(&token("alice", &["admin"], "orders:write"))
}

/// The 401 challenges of the standard config.
pub fn both() -> Vec<String> {
    vec![BEARER.to_owned(), BASIC.to_owned()]
}

/// What the echo route received, from its JSON answer.
pub struct Echo(pub serde_json::Value);

impl Echo {
    /// The echo in a 200 answer.
    pub fn of(r: &Response) -> Self {
        assert_eq!(r.status, 200, "{r:#?}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{r:#?}");
        Self(r.json())
    }

    /// A string field of the echo.
    pub fn str(&self, key: &str) -> &str {
        self.0[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}: {}", self.0))
    }

    /// Every value the upstream received for a header.
    pub fn all(&self, name: &str) -> Vec<String> {
        let headers = self.0["headers"].as_array().unwrap();
        headers
            .iter()
            .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
            .collect()
    }

    /// Asserts that none of `names` arrived.
    pub fn lacks(&self, names: &[&str]) {
        for name in names {
            let got = self.all(name);
            assert!(got.is_empty(), "upstream got {name}: {got:?}\n{}", self.0);
        }
    }

    /// The cookie pairs the upstream received.
    pub fn cookies(&self) -> Vec<String> {
        let all = self.all("cookie");
        let pairs = all.iter().flat_map(|c| c.split(';')).map(str::trim);
        pairs.filter(|p| !p.is_empty()).map(str::to_owned).collect()
    }
}
