#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `[[authn.oidc]]` and what `[login]` makes of it: defaults, several providers, the password
//! form on or off, and every mistake reported with its key and line.

use std::path::Path;

use warden_core::Config;
use warden_core::config::{OidcProvider, SecretSource};

const HEAD: &str = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n";

const IDP: &str = "[[authn.oidc]]\nname = \"corp\"\nissuer = \"https://idp.example\"\n\
                   client_id = \"warden\"\nclient_secret_file = \"secret\"\n";

fn parse(tail: &str) -> Config {
    Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap()
}

/// (key, line, message) of every issue.
fn issues(tail: &str) -> Vec<(String, usize, String)> {
    let errors = Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap_err();
    (errors.issues.into_iter())
        .map(|i| (i.key, i.line, i.message))
        .collect()
}

#[test]
fn one_provider_turns_sign_in_on_without_a_password_form() {
    let config = parse(IDP);
    let login = config.login.expect("a provider is a way in");
    assert!(!login.password);
    assert_eq!(
        login.providers,
        [OidcProvider {
            name: "corp".into(),
            display_name: "corp".into(),
            issuer: "https://idp.example".into(),
            client_id: "warden".into(),
            client_secret: SecretSource::File("/etc/warden/secret".into()),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            roles_claim: None,
            subject_claim: "sub".into(),
            allow_http: false,
        }]
    );
    assert_eq!(login.sole_provider().map(|p| p.name.as_str()), Some("corp"));
    assert_eq!(login.public_url, None);
}

#[test]
fn with_passwords_or_two_providers_the_page_offers_a_choice() {
    let second = "[[authn.oidc]]\nname = \"google\"\ndisplay_name = \"Google\"\n\
                  issuer = \"https://accounts.google.com\"\nclient_id = \"x\"\n\
                  client_secret_env = \"GOOGLE_SECRET\"\nscopes = [\"email\"]\n\
                  roles_claim = \"groups\"\nsubject_claim = \"email\"\n";
    let config = parse(&format!(
        "{IDP}{second}[login]\npublic_url = \"https://auth.example/\"\n"
    ));
    let login = config.login.unwrap();
    assert_eq!(login.sole_provider(), None, "two providers");
    let google = login.provider("google").unwrap();
    assert_eq!(google.display_name, "Google");
    assert_eq!(
        google.client_secret,
        SecretSource::Env("GOOGLE_SECRET".into())
    );
    assert_eq!(google.scopes, ["openid", "email"], "openid is always asked");
    assert_eq!(google.roles_claim.as_deref(), Some("groups"));
    assert_eq!(google.subject_claim, "email");
    assert_eq!(login.public_url.as_deref(), Some("https://auth.example"));
    let with_password = parse(&format!("[authn.basic]\n{IDP}")).login.unwrap();
    assert!(with_password.password);
    assert_eq!(
        with_password.sole_provider(),
        None,
        "the password form is a second way in"
    );
}

#[test]
fn plain_http_needs_the_dangerous_switch() {
    let http = IDP.replace("https://idp.example", "http://127.0.0.1:4000");
    assert_eq!(
        issues(&http),
        [(
            "authn.oidc[0].issuer".into(),
            7,
            "must be an https:// URL (set `dangerous_allow_http = true` for plain http)".into()
        )]
    );
    let allowed = parse(&format!("{http}dangerous_allow_http = true\n"));
    assert!(allowed.login.unwrap().providers[0].allow_http);
}

#[test]
fn every_mistake_names_its_key_and_line() {
    let cases: Vec<(String, (&str, usize, &str))> = vec![
        (
            IDP.replace("\"corp\"", "\"Corp Login\""),
            (
                "authn.oidc[0].name",
                6,
                "must be 1 to 32 of `a-z`, `0-9`, `-`, `_`",
            ),
        ),
        (
            IDP.replace("https://idp.example", "https://idp.example/?x=1"),
            (
                "authn.oidc[0].issuer",
                7,
                "must be a URL like `https://idp.example`, without query, fragment or user info",
            ),
        ),
        (
            IDP.replace("client_secret_file = \"secret\"\n", ""),
            (
                "authn.oidc[0]",
                5,
                "set exactly one of `client_secret_file` and `client_secret_env`",
            ),
        ),
        (
            format!("{IDP}client_secret_env = \"X\"\n"),
            (
                "authn.oidc[0]",
                5,
                "set exactly one of `client_secret_file` and `client_secret_env`",
            ),
        ),
        (
            format!("{IDP}scopes = [\"a\\\"b\"]\n"),
            ("authn.oidc[0].scopes", 10, "`a\"b` is not a scope token"),
        ),
        (
            format!("{IDP}roles_claim = \"\"\n"),
            ("authn.oidc[0].roles_claim", 10, "must not be empty"),
        ),
        (
            format!("{IDP}{IDP}"),
            ("authn.oidc[1].name", 11, "`corp` names two providers"),
        ),
        (
            format!("{IDP}[login]\npublic_url = \"https://auth.example/path\"\n"),
            (
                "login.public_url",
                11,
                "`https://auth.example/path` is not an origin like `https://app.example`",
            ),
        ),
        (
            "[login]\nenabled = true\n".to_owned(),
            (
                "login",
                5,
                "needs a way to sign in: add `[authn.basic]` or an `[[authn.oidc]]` provider",
            ),
        ),
    ];
    for (tail, (key, line, message)) in cases {
        assert_eq!(
            issues(&tail),
            [(key.to_owned(), line, message.to_owned())],
            "{tail}"
        );
    }
}

#[test]
fn unknown_keys_are_refused() {
    let errors = issues(&format!("{IDP}client_secret = \"inline\"\n"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "authn.oidc[0].client_secret");
    assert!(
        errors[0].2.contains("unknown field `client_secret`"),
        "{errors:?}"
    );
}
