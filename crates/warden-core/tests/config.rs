#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Configuration: the PRODUCT example loads; every mistake is reported with key, line and column.

use std::path::Path;

use warden_core::Config;
use warden_core::config::{ConfigIssue, KeySource};
use warden_core::rules::Access;

const PRODUCT_EXAMPLE: &str = include_str!("../../../examples/quickstart/warden.toml");

fn issues(text: &str) -> Vec<ConfigIssue> {
    Config::parse(text, Path::new("/etc/warden"))
        .unwrap_err()
        .issues
}

#[test]
fn the_product_example_loads_as_written() {
    let config = Config::parse(PRODUCT_EXAMPLE, Path::new("/etc/warden")).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:4180");
    assert_eq!(config.realm, "example");
    assert_eq!(config.data_dir, Path::new("/etc/warden/./data"));
    let jwt = config.jwt.as_ref().unwrap();
    assert_eq!(
        jwt.source,
        KeySource::File("/etc/warden/keys/jwks.json".into())
    );
    assert_eq!(jwt.policy.audience, vec!["api".to_owned()]);
    assert_eq!(jwt.policy.leeway, 30);
    assert!(config.basic);
    assert_eq!(
        config.api_key_header.as_ref().unwrap().as_str(),
        "x-api-key"
    );
    let names: Vec<&str> = config
        .rules
        .rules()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["health", "private", "admin", "orders-write"]);
    assert_eq!(config.rules.rules()[0].access, Access::Anyone);
    assert_eq!(config.network.deny.len(), 1);
}

#[test]
fn unknown_key_names_line_column_and_table() {
    let text = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\nlisn = 3\n";
    let found = issues(text);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].column), (5, 1));
    assert_eq!(found[0].key, "server.lisn");
    assert!(
        found[0].message.contains("unknown field `lisn`"),
        "{}",
        found[0].message
    );
}

#[test]
fn semantic_errors_are_all_reported_with_locations() {
    let text = r#"version = 2
[server]
listen = "nowhere"
realm = "r"
[network]
deny = ["10.0.0.0/33"]
[[rule]]
name = "a"
path = "admin"
require = "sometimes"
[[rule]]
name = "b"
path = "/b"
require = { roles = ["x"], colour = ["red"] }
"#;
    let found = issues(text);
    let keys: Vec<(&str, usize)> = found.iter().map(|i| (i.key.as_str(), i.line)).collect();
    assert_eq!(
        keys,
        [
            ("version", 1),
            ("server.listen", 3),
            ("network.deny", 6),
            ("rule[0].path", 9),
            ("rule[0].require", 10),
            ("rule[1].require", 14),
        ]
    );
    assert!(found[2].message.contains("`10.0.0.0/33`"));
    assert!(found[5].message.contains("`colour`"));
}

#[test]
fn a_rule_needing_authentication_needs_an_authenticator() {
    let text = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[[rule]]\nname = \"p\"\npath = \"/p\"\nrequire = \"authenticated\"\n";
    let found = issues(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "rule[0].require");
    assert!(found[0].message.contains("authenticator"));
}

#[test]
fn jwt_needs_one_key_source_and_https() {
    let base = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.jwt]\nissuer = \"i\"\naudience = \"a\"\n";
    let both = format!("{base}jwks_file = \"k\"\njwks_url = \"https://x\"\n");
    assert_eq!(issues(&both)[0].key, "authn.jwt");
    let http = format!("{base}jwks_url = \"http://idp/jwks\"\n");
    assert_eq!(issues(&http)[0].key, "authn.jwt.jwks_url");
    let allowed =
        format!("{base}jwks_url = \"http://idp/jwks\"\ndangerous_allow_http_jwks_url = true\n");
    assert!(Config::parse(&allowed, Path::new("/")).is_ok());
    let no_aud = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.jwt]\nissuer = \"i\"\njwks_file = \"k\"\n";
    assert_eq!(issues(no_aud)[0].key, "authn.jwt.audience");
}

#[test]
fn rule_authn_must_name_configured_schemes() {
    let text = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.basic]\n[[rule]]\nname = \"p\"\npath = \"/p\"\nrequire = \"authenticated\"\nauthn = [\"jwt\"]\n";
    let found = issues(text);
    assert_eq!(found[0].key, "rule[0].authn");
    assert!(found[0].message.contains("`jwt` is not configured"));
}

#[test]
fn proxy_settings_need_an_http_upstream() {
    let base = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n";
    let orphan = format!("{base}[proxy]\ntimeout_seconds = 5\n");
    assert_eq!(issues(&orphan)[0].key, "proxy");
    for bad in [
        "https://up:8443",
        "http://up:8080/app",
        "up:8080",
        "http://u@up:1",
    ] {
        let text = format!("{base}upstream = \"{bad}\"\n");
        assert_eq!(issues(&text)[0].key, "server.upstream", "{bad}");
    }
    let zero = format!("{base}upstream = \"http://up:1\"\n[proxy]\ntimeout_seconds = 0\n");
    assert_eq!(issues(&zero)[0].key, "proxy.timeout_seconds");
    let good = format!(
        "{base}upstream = \"http://127.0.0.1:8080/\"\n[proxy]\nstrip_authorization = true\n[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n"
    );
    let config = Config::parse(&good, Path::new("/etc/warden")).unwrap();
    let proxy = config.proxy.unwrap();
    assert_eq!(
        proxy.upstream.authority().unwrap().as_str(),
        "127.0.0.1:8080"
    );
    assert!(proxy.strip_authorization && proxy.strip_session_cookie && !proxy.http2);
    assert_eq!(proxy.timeout.as_secs(), 30);
    let tls = config.tls.unwrap();
    assert_eq!(tls.cert, Path::new("/etc/warden/c.pem"));
}
