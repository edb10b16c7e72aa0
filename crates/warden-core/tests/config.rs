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

/// A JWT authenticator and one rule whose `require` is `require`.
fn with_require(require: &str) -> String {
    format!(
        "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.jwt]\njwks_file = \"k\"\nissuer = \"i\"\naudience = \"a\"\n[authn.basic]\n[[rule]]\nname = \"p\"\npath = \"/p\"\nrequire = {require}\n"
    )
}

#[test]
fn step_up_requirements_load() {
    let text = with_require(r#"{ roles = ["admin"], acr = ["mfa", "phr"], max_age = 300 }"#);
    let config = Config::parse(&text, Path::new("/")).unwrap();
    let Access::Authenticated(need) = &config.rules.rules()[0].access else {
        panic!("not a requirement");
    };
    assert_eq!(need.roles, ["admin"]);
    assert_eq!(need.acr, ["mfa", "phr"]);
    assert_eq!(need.max_age, Some(300));
    for alone in [r#"{ acr = ["mfa"] }"#, "{ max_age = 60 }"] {
        assert!(
            Config::parse(&with_require(alone), Path::new("/")).is_ok(),
            "{alone}"
        );
    }
}

#[test]
fn step_up_mistakes_name_the_key_and_line() {
    for (require, key, words) in [
        (
            "{ acr = [] }",
            "rule[0].require.acr",
            "at least one acr value",
        ),
        (
            r#"{ acr = "mfa" }"#,
            "rule[0].require.acr",
            "list of acr values",
        ),
        (
            r#"{ acr = ["two words"] }"#,
            "rule[0].require.acr",
            "without spaces",
        ),
        (r#"{ acr = [""] }"#, "rule[0].require.acr", "non-empty"),
        ("{ max_age = 0 }", "rule[0].require.max_age", "not `0`"),
        ("{ max_age = -5 }", "rule[0].require.max_age", "not `-5`"),
        (
            "{ max_age = 1.5 }",
            "rule[0].require.max_age",
            "positive whole number",
        ),
        (
            r#"{ max_age = "300" }"#,
            "rule[0].require.max_age",
            "not `\"300\"`",
        ),
        (
            r#"{ roles = ["a"], acr_values = ["mfa"] }"#,
            "rule[0].require",
            "unknown key `acr_values`",
        ),
        ("{ }", "rule[0].require", "at least one role"),
    ] {
        let found = issues(&with_require(require));
        assert_eq!(found.len(), 1, "{require}: {found:?}");
        assert_eq!(
            (found[0].key.as_str(), found[0].line),
            (key, 13),
            "{require}"
        );
        assert!(
            found[0].message.contains(words),
            "{require}: {}",
            found[0].message
        );
    }
}

#[test]
fn step_up_needs_an_authenticator_that_tells_how_the_user_signed_in() {
    // Basic, API keys and password sessions carry no `acr` or `auth_time`: the rule could
    // never let anyone in.
    let basic_only = with_require(r#"{ acr = ["mfa"] }"#) + "authn = [\"basic\"]\n";
    let found = issues(&basic_only);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].key.as_str(), found[0].line),
        ("rule[0].require", 13)
    );
    assert!(
        found[0].message.contains("need a JWT"),
        "{}",
        found[0].message
    );
    let no_jwt = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.basic]\n[[rule]]\nname = \"p\"\npath = \"/p\"\nrequire = { max_age = 60 }\n";
    assert_eq!(issues(no_jwt)[0].key, "rule[0].require");
    let with_jwt = with_require("{ max_age = 60 }") + "authn = [\"jwt\", \"basic\"]\n";
    assert!(Config::parse(&with_jwt, Path::new("/")).is_ok());
    // An OpenID Connect sign-in tells both, through the session it opens.
    let oidc = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n[authn.api_key]\n\
                [[authn.oidc]]\nname = \"corp\"\nissuer = \"https://idp.example\"\nclient_id = \"w\"\n\
                client_secret_file = \"s\"\n[[rule]]\nname = \"p\"\npath = \"/p\"\n\
                require = { acr = [\"mfa\"] }\nauthn = [\"api_key\", \"session\"]\n";
    assert!(Config::parse(oidc, Path::new("/")).is_ok());
}

const SERVER: &str = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n";

#[test]
fn protected_resource_metadata_urls_follow_rfc_9728() {
    for (resource, url) in [
        (
            "https://api.example",
            "https://api.example/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example/",
            "https://api.example/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example/v1",
            "https://api.example/.well-known/oauth-protected-resource/v1",
        ),
        (
            "https://API.example:8443/a/b/",
            "https://API.example:8443/.well-known/oauth-protected-resource/a/b",
        ),
        (
            "http://127.0.0.1:4180",
            "http://127.0.0.1:4180/.well-known/oauth-protected-resource",
        ),
    ] {
        let text = format!(
            "{SERVER}resource = \"{resource}\"\nauthorization_servers = [\"https://idp.example\"]\n"
        );
        let config = Config::parse(&text, Path::new("/")).unwrap();
        let meta = config.resource.unwrap();
        assert_eq!(meta.resource, resource);
        assert_eq!(meta.metadata_url, url, "{resource}");
        assert!(url.ends_with(&meta.metadata_path), "{resource}");
    }
    let none = Config::parse(SERVER, Path::new("/")).unwrap();
    assert!(none.resource.is_none());
}

#[test]
fn protected_resource_mistakes_name_the_key_and_line() {
    let servers = "authorization_servers = [\"https://idp.example\"]\n";
    for (lines, key, line) in [
        (
            format!("resource = \"http://api.example\"\n{servers}"),
            "server.resource",
            5,
        ),
        (
            format!("resource = \"https://api.example/#top\"\n{servers}"),
            "server.resource",
            5,
        ),
        (
            format!("resource = \"https://api.example/?v=1\"\n{servers}"),
            "server.resource",
            5,
        ),
        (
            format!("resource = \"/v1\"\n{servers}"),
            "server.resource",
            5,
        ),
        (
            "resource = \"https://api.example\"\n".to_owned(),
            "server.authorization_servers",
            5,
        ),
        (
            "resource = \"https://api.example\"\nauthorization_servers = []\n".to_owned(),
            "server.authorization_servers",
            6,
        ),
        (
            "resource = \"https://api.example\"\nauthorization_servers = [\"idp\"]\n".to_owned(),
            "server.authorization_servers",
            6,
        ),
        (
            format!("resource = \"https://api.example\"\n{servers}scopes_supported = [\"a b\"]\n"),
            "server.scopes_supported",
            7,
        ),
        (
            format!("resource = \"https://api.example\"\n{servers}resource_name = \"\"\n"),
            "server.resource_name",
            7,
        ),
        (servers.to_owned(), "server.authorization_servers", 5),
    ] {
        let found = issues(&format!("{SERVER}{lines}"));
        assert_eq!(found.len(), 1, "{lines}: {found:?}");
        assert_eq!(
            (found[0].key.as_str(), found[0].line),
            (key, line),
            "{lines}"
        );
    }
}
