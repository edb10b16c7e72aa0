//! The command line: `config check` (errors with line, column and key path; exit codes),
//! `check` (explain one decision), and the user and key listings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tokens::token;
use common::*;
use std::time::Duration;

/// Writes `text` as a config and runs `warden config check` on it.
fn config_check(text: &str) -> (Env, CliOutput) {
    let env = Env::new(text);
    let out = env.cli(&["config", "check"], None);
    (env, out)
}

/// 1-based line and column of the first occurrence of `needle`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the config"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

/// Asserts a failed check whose stderr has exactly one error line, starting
/// `FILE:line L, column C: `KEY`: ` with L/C the position of `at`, and mentioning `mention`.
fn assert_one_error(text: &str, at: &str, key: &str, mention: &str) {
    let (env, out) = config_check(text);
    assert!(!out.status.success(), "accepted: {out:#?}");
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_eq!(out.stdout, "", "{out:#?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error expected: {out:#?}");
    let (line, column) = position(text, at);
    let prefix = format!(
        "{}:line {line}, column {column}: `{key}`: ",
        env.config.display()
    );
    assert!(
        lines[0].starts_with(&prefix),
        "got:  {}\nwant: {prefix}…",
        lines[0]
    );
    assert!(
        lines[0].contains(mention),
        "`{mention}` not in {}",
        lines[0]
    );
}

#[test]
fn valid_config_checks_ok() {
    let (_env, out) = config_check(&standard_config());
    assert!(out.status.success(), "{out:#?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].ends_with(": ok (4 rules)"), "{out:#?}");
    // Basic is on: the nginx operator is told about 429 and the sign-in redirect.
    assert_eq!(
        lines[1], "behind nginx auth_request (/.warden/nginx):",
        "{out:#?}"
    );
    assert_eq!(lines.len(), 5, "{out:#?}");
    assert!(lines[2].starts_with("  note: failed-attempt throttling answers 429 as 403"));
    assert_eq!(out.stderr, "", "{out:#?}");
}

#[test]
fn a_jwks_url_warns_nginx_operators_at_start() {
    let config = config_with_jwks(
        r#"jwks_url = "http://127.0.0.1:9/jwks.json"
dangerous_allow_http_jwks_url = true"#,
    );
    let (_env, out) = config_check(&config);
    assert!(out.status.success(), "{out:#?}");
    assert!(out.stdout.contains("  warning: `authn.jwt.jwks_url`: while no key can be fetched, tokens get 503, which nginx shows as 500"), "{out:#?}");
    let warden = Env::new(&config).serve();
    let log = warden.log();
    assert!(
        log.contains(r#""level":"WARN""#) && log.contains("behind nginx auth_request"),
        "{log}"
    );
}

#[test]
fn the_product_example_config_is_valid() {
    // PRODUCT.md's file, verbatim but for the listen port and the JWKS path.
    let (env, out) = config_check(&standard_config().replace("127.0.0.1:0", "127.0.0.1:4180"));
    assert!(out.status.success(), "{out:#?}");
    // `check` needs no server: the default-deny answer for an unknown path.
    let out = env.cli(&["check", "GET", "/nowhere"], None).ok();
    assert!(out.stdout.contains("status:   403"), "{}", out.stdout);
}

#[test]
fn unknown_key_in_a_table_names_the_key() {
    let text = replace(
        &standard_config(),
        "realm = \"example\"\n",
        "realm = \"example\"\ncolour = \"red\"\n",
    );
    assert_one_error(&text, "colour", "server.colour", "colour");
}

#[test]
fn unknown_key_in_a_rule_names_the_rule_index() {
    let text = standard_config()
        + "[[rule]]\nname = \"x\"\npath = \"/x\"\ncolour = \"red\"\nallow = \"anyone\"\n";
    assert_one_error(&text, "colour", "rule[4].colour", "colour");
}

#[test]
fn bad_cidr() {
    let text = replace(
        &standard_config(),
        "\"203.0.113.0/24\"",
        "\"203.0.113.0/33\"",
    );
    let (env, out) = config_check(&text);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let (line, column) = position(&text, "\"203.0.113.0/33\"");
    let prefix = format!(
        "{}:line {line}, column {column}: `network.deny",
        env.config.display()
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    assert!(
        out.stderr.starts_with(&prefix),
        "got:  {}want: {prefix}…",
        out.stderr
    );
    assert!(out.stderr.contains("203.0.113.0/33"), "{}", out.stderr);
}

#[test]
fn bad_require() {
    let text = replace(
        &standard_config(),
        "require = \"authenticated\"",
        "require = \"admins\"",
    );
    assert_one_error(&text, "\"admins\"", "rule[1].require", "admins");
    let text = replace(
        &standard_config(),
        "require = { roles = [\"admin\"] }",
        "require = { groups = [\"admin\"] }",
    );
    assert_one_error(&text, "{ groups", "rule[2].require", "groups");
}

#[test]
fn unsupported_version() {
    let text = replace(&standard_config(), "version = 1", "version = 2");
    assert_one_error(&text, "2", "version", "version = 1");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = replace(&standard_config(), "version = 1", "version = 2");
    let text = replace(&text, "\"203.0.113.0/24\"", "\"nonsense\"");
    let text = replace(&text, "require = \"authenticated\"", "require = \"admins\"");
    let (env, out) = config_check(&text);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let keys: Vec<String> = out
        .stderr
        .lines()
        .map(|l| {
            assert!(
                l.starts_with(&format!("{}:line ", env.config.display())),
                "{l}"
            );
            l.split('`').nth(1).unwrap_or("").to_owned()
        })
        .collect();
    assert_eq!(
        keys,
        ["version", "network.deny", "rule[1].require"],
        "{}",
        out.stderr
    );
}

#[test]
fn missing_config_file_fails() {
    let out = run_warden(
        std::path::Path::new("/nonexistent/warden.toml"),
        &["config", "check"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(out.stderr.contains("/nonexistent/warden.toml"), "{out:#?}");
}

/// The value after `label:` on its line of `check` output.
fn field<'a>(stdout: &'a str, label: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label}:")))
        .map(str::trim)
}

#[test]
fn check_explains_an_allowed_request() {
    let env = Env::new(&standard_config());
    let t = token("alice", &["admin", "ops"], "orders:write");
    let out = env
        .cli(
            &[
                "check",
                "GET",
                "/admin/x",
                "-H",
                &format!("Authorization: Bearer {t}"),
            ],
            None,
        )
        .ok();
    let s = &out.stdout;
    assert_eq!(field(s, "rule"), Some("admin"), "{s}");
    let identity = field(s, "identity").unwrap_or_else(|| panic!("no identity line: {s}"));
    for part in ["alice", "jwt", "admin,ops", "orders:write"] {
        assert!(
            identity.contains(part),
            "identity {identity:?} lacks {part}"
        );
    }
    assert_eq!(field(s, "decision"), Some("allow"), "{s}");
    assert_eq!(field(s, "status"), Some("200 OK"), "{s}");
    let headers: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    for h in [
        "x-auth-subject: alice",
        "x-auth-roles: admin,ops",
        "x-auth-scopes: orders:write",
        "x-auth-method: jwt",
        "cache-control: no-store",
    ] {
        assert!(headers.contains(&h), "{h:?} not in {headers:?}");
    }
}

#[test]
fn check_explains_denied_requests() {
    let env = Env::new(&standard_config());
    let out = env.cli(&["check", "GET", "/admin/x"], None).ok();
    let s = &out.stdout;
    assert_eq!(field(s, "rule"), Some("admin"), "{s}");
    assert!(
        field(s, "decision").is_some_and(|d| d.starts_with("deny")),
        "{s}"
    );
    assert_eq!(field(s, "status"), Some("401 Unauthorized"), "{s}");
    assert!(
        s.contains(&format!(
            "  www-authenticate: {BEARER}\n  www-authenticate: {BASIC}\n"
        )),
        "{s}"
    );

    let out = env
        .cli(&["check", "GET", "/health", "--peer", "203.0.113.9"], None)
        .ok();
    assert_eq!(
        field(&out.stdout, "status"),
        Some("403 Forbidden"),
        "{}",
        out.stdout
    );
    let out = env.cli(&["check", "GET", "/nowhere"], None).ok();
    assert_eq!(
        field(&out.stdout, "rule"),
        Some("(none: default deny)"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_explains_a_step_up() {
    let rule = "[[rule]]\nname = \"payments\"\npath = \"/payments/**\"\nrequire = { acr = [\"mfa\"], max_age = 300 }\n";
    let env = Env::new(&(standard_config() + rule));
    let mut claims = common::tokens::claims("alice", &["admin"], "");
    claims["acr"] = "pwd".into();
    claims["auth_time"] = (common::tokens::now() - 60).into();
    let t = common::tokens::mint(common::tokens::Signer::Es256, &claims);
    let auth = format!("Authorization: Bearer {t}");
    let out = env
        .cli(&["check", "GET", "/payments/1", "-H", &auth], None)
        .ok();
    let s = &out.stdout;
    assert_eq!(field(s, "rule"), Some("payments"), "{s}");
    let identity = field(s, "identity").unwrap_or_default();
    assert!(identity.contains("acr: pwd; auth_time: "), "{s}");
    assert_eq!(field(s, "decision"), Some("deny (insufficient_acr)"), "{s}");
    assert_eq!(
        field(s, "needs"),
        Some("acr one of mfa and a sign-in within the last 300 s (sign in again to meet it)"),
        "{s}"
    );
    assert_eq!(field(s, "status"), Some("401 Unauthorized"), "{s}");
    assert!(
        s.contains(r#"  www-authenticate: Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa", max_age="300""#),
        "{s}"
    );
}

#[test]
fn user_commands() {
    let env = Env::new(&standard_config());
    env.add_user("bob", "pw", &[]);
    env.add_user("alice", "pw", &["admin", "ops"]);
    env.cli(&["user", "disable", "bob"], None).ok();
    let out = env.cli(&["user", "list"], None).ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["NAME", "STATUS", "ROLES"],
            vec!["alice", "active", "admin,ops"],
            vec!["bob", "disabled"]
        ],
        "{}",
        out.stdout
    );
    env.cli(&["user", "enable", "bob"], None).ok();
    let out = env.cli(&["user", "list"], None).ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["bob", "active"]),
        "{}",
        out.stdout
    );

    let dup = env.cli(&["user", "add", "alice", "--password-stdin"], Some("x\n"));
    assert!(!dup.status.success(), "duplicate user accepted: {dup:#?}");
    let empty = env.cli(&["user", "add", "zed", "--password-stdin"], Some("\n"));
    assert!(
        !empty.status.success(),
        "empty password accepted: {empty:#?}"
    );
    let no_stdin_flag = env.cli(&["user", "add", "zed"], None);
    assert!(!no_stdin_flag.status.success(), "{no_stdin_flag:#?}");
    let unknown = env.cli(&["user", "disable", "nobody"], None);
    assert!(
        !unknown.status.success(),
        "disabling an unknown user: {unknown:#?}"
    );
    let out = env.cli(&["user", "list"], None).ok();
    assert!(!out.stdout.contains("zed"), "{}", out.stdout);
}

#[test]
fn key_commands() {
    let env = Env::new(&standard_config());
    let key = env.create_key("ci", &["deployer"]);
    let rest = key.strip_prefix("wdn_").unwrap();
    assert!(rest.len() >= 32, "short key {key}");
    assert!(
        rest.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{key}"
    );
    let other = env.create_key("backup", &[]);
    assert_ne!(key, other);

    let out = env.cli(&["key", "list"], None).ok();
    assert!(
        !out.stdout.contains(&key) && !out.stdout.contains(rest),
        "key list shows the secret"
    );
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["ID", "NAME", "STATUS", "ROLES"], "{}", out.stdout);
    assert_eq!(rows.len(), 3, "{}", out.stdout);
    // Keys created in the same second may list in either order.
    let row = |name: &str| rows.iter().find(|r| r.get(1) == Some(&name)).unwrap();
    assert_eq!(
        row("ci")[1..],
        ["ci", "active", "deployer"],
        "{}",
        out.stdout
    );
    assert_eq!(row("backup")[1..], ["backup", "active"], "{}", out.stdout);
    assert_ne!(row("ci")[0], row("backup")[0], "ids must differ");
    let id = row("ci")[0].to_owned();
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );

    env.cli(&["key", "revoke", &id], None).ok();
    let out = env.cli(&["key", "list"], None).ok();
    let ci: Vec<&str> = out
        .stdout
        .lines()
        .find(|l| l.contains(" ci "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(ci, [id.as_str(), "ci", "revoked", "deployer"]);
    let unknown = env.cli(&["key", "revoke", "000000000000"], None);
    assert!(
        !unknown.status.success(),
        "revoking an unknown id: {unknown:#?}"
    );
}

/// Every explanation has an `identity:` line; a role denial names who was denied.
#[test]
fn check_always_shows_the_identity() {
    let env = Env::new(&standard_config());
    let t = format!("Authorization: Bearer {}", token("bob", &["viewer"], ""));
    let out = env.cli(&["check", "GET", "/admin/x", "-H", &t], None).ok();
    let s = &out.stdout;
    assert!(
        field(s, "decision").is_some_and(|d| d.starts_with("deny")),
        "{s}"
    );
    assert_eq!(field(s, "status"), Some("403 Forbidden"), "{s}");
    assert!(!s.contains("www-authenticate"), "{s}");
    let identity = field(s, "identity");
    assert!(
        identity.is_some_and(|i| i.contains("bob") && i.contains("viewer")),
        "identity of a role denial: {s}"
    );
    let out = env.cli(&["check", "GET", "/admin/x"], None).ok();
    assert!(
        field(&out.stdout, "identity").is_some(),
        "no identity line: {}",
        out.stdout
    );
}

/// SIGTERM stops the server cleanly: exit status 0 and a "shutting down" log line.
#[test]
fn sigterm_shuts_down_gracefully() {
    let mut warden = Env::new(&standard_config()).serve();
    assert_eq!(warden.get("/health", &[]).status, 200);
    let status = warden.terminate();
    assert!(status.success(), "exit status {status:?}");
    poll_until(Duration::from_secs(5), "the shutdown log line", || {
        warden.log().contains("shutting down").then_some(())
    });
}
