//! `warden test FILE…`: policy test files run by the real binary. Passing and failing cases
//! (the failing condition and its values named), malformed test files and configurations
//! (exit 2 with file and line), and every example's own test file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{CliOutput, TestDir};

const CONFIG: &str = r#"version = 1
[server]
listen = "127.0.0.1:4180"
realm = "example"
[authn.jwt]
jwks_file = "keys.json"
issuer = "https://idp.example"
audience = "api"
[authn.basic]
[policy.claims]
tenant = "String"
[[rule]]
name = "invoices"
path = "/tenants/{tenant}/invoices/**"
require = { roles = ["billing"] }
when = ['principal.claims.tenant == context.params.tenant']
[[rule]]
name = "tokens-only"
path = "/api/**"
require = "authenticated"
authn = ["jwt"]
"#;

const HEAD: &str = "config = \"warden.toml\"\nnow = 1700000000\n";

const OWN_TENANT: &str = r#"
[[case]]
name = "billing reads its own tenant's invoices"
request = "GET /tenants/acme/invoices/7?x=1"
identity = { subject = "alice", roles = ["billing"], claims = { tenant = "acme" } }
expect = { status = 200, rule = "invoices", reason = "allow", headers = { "X-Auth-Subject" = "alice" } }
"#;

const OTHER_TENANT: &str = r#"
[[case]]
name = "billing reads another tenant's invoices"
request = "GET /tenants/globex/invoices/7"
identity = { subject = "alice", roles = ["billing"], claims = { tenant = "acme" } }
expect = { status = 200, rule = "invoices" }
"#;

/// A directory with the config and a test file made of `cases`.
fn setup(cases: &str) -> (TestDir, PathBuf) {
    let dir = TestDir::new();
    std::fs::write(dir.path.join("warden.toml"), CONFIG).unwrap();
    let file = dir.path.join("warden.test.toml");
    std::fs::write(&file, format!("{HEAD}{cases}")).unwrap();
    (dir, file)
}

/// `warden test ARGS…`.
fn warden_test(args: &[&Path]) -> CliOutput {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("test")
        .args(args)
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_LOG")
        .output()
        .unwrap();
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// 1-based line of the first occurrence of `needle` in the test file.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let offset = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    text[..offset].matches('\n').count() + 1
}

#[test]
fn a_passing_file_exits_0_and_prints_only_the_summary() {
    let (_dir, file) = setup(OWN_TENANT);
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    assert_eq!(out.stdout, "1 passed, 0 failed\n", "{out:#?}");
    assert_eq!(out.stderr, "", "{out:#?}");
}

#[test]
fn verbose_lists_the_passing_cases() {
    let (_dir, file) = setup(OWN_TENANT);
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["test", "--verbose"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = line_of(&file, "[[case]]");
    let want = format!(
        "ok   {}:{line} billing reads its own tenant's invoices\n1 passed, 0 failed\n",
        file.display()
    );
    assert_eq!(stdout, want);
}

#[test]
fn a_failing_case_names_the_condition_and_the_values_it_read() {
    let (_dir, file) = setup(&format!("{OWN_TENANT}{OTHER_TENANT}"));
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let line = line_of(&file, "[[case]]\nname = \"billing reads another");
    let want = format!(
        "FAIL {}:{line} billing reads another tenant's invoices: expected 200, got 403 \
         (rule invoices, reason condition_failed: rule[0].when[0] \
         principal.claims.tenant == context.params.tenant — \
         principal.claims.tenant = \"acme\", context.params.tenant = \"globex\")\n\
         1 passed, 1 failed\n",
        file.display()
    );
    assert_eq!(out.stdout, want, "{out:#?}");
}

#[test]
fn every_mismatched_field_is_told_expected_and_actual() {
    let case = r#"
[[case]]
name = "anonymous"
request = "GET /tenants/acme/invoices/7"
expect = { status = 403, rule = "other", reason = "missing_role", challenge = "Basic", headers = { "Content-Type" = "text/html" } }
"#;
    let (_dir, file) = setup(case);
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let fail = out.stdout.lines().next().unwrap();
    for part in [
        "expected 403, got 401",
        "expected rule other, got invoices",
        "expected reason missing_role, got unauthenticated",
        r#"expected challenge `Basic`, got `Bearer realm="example", Basic realm="example", charset="UTF-8"`"#,
        "expected content-type `text/html`, got `application/problem+json`",
        "(rule invoices, reason unauthenticated)",
    ] {
        assert!(fail.contains(part), "`{part}` not in {fail}");
    }
}

#[test]
fn the_identity_arrives_as_the_credential_of_its_kind() {
    let cases = r#"
[[case]]
name = "basic on a rule that takes only tokens"
request = "GET /api/x"
identity = { subject = "bob", method = "basic" }
expect = { status = 401, reason = "unauthenticated", challenge = 'Bearer realm="example"' }
[[case]]
name = "a jwt on the same rule"
request = "GET /api/x"
identity = { subject = "bob" }
expect = { status = 200, headers = { "X-Auth-Method" = "jwt" } }
[[case]]
name = "a basic header judged for a jwt identity"
request = "GET /tenants/acme/invoices/1"
headers = { Authorization = "Basic dXNlcjpwdw==" }
identity = { subject = "bob", roles = ["billing"], claims = { tenant = "acme" } }
expect = { status = 401, reason = "bad_password" }
"#;
    let (_dir, file) = setup(cases);
    let out = warden_test(&[&file]);
    assert_eq!(out.stdout, "3 passed, 0 failed\n", "{out:#?}");
}

#[test]
fn a_rule_that_needs_an_identity_the_case_lacks_is_an_error_of_the_file() {
    let case = r#"
[[case]]
name = "a token but no identity"
request = "GET /api/x"
headers = { Authorization = "Bearer a.b.c" }
expect = { status = 200 }
"#;
    let (_dir, file) = setup(case);
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(2), "{out:#?}");
    let line = line_of(&file, "[[case]]");
    let want = format!(
        "{}:{line}:1: case `a token but no identity`: the rule needs an identity: give one\n",
        file.display()
    );
    assert_eq!(out.stderr, want, "{out:#?}");
}

/// Asserts exit 2, nothing run, and one error line at `file:LINE:COL:` mentioning `mention`.
fn assert_malformed(cases: &str, at: &str, column: usize, mention: &str) {
    let (_dir, file) = setup(cases);
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(2), "{out:#?}");
    assert_eq!(out.stdout, "", "no case runs: {out:#?}");
    let prefix = format!("{}:{}:{column}: ", file.display(), line_of(&file, at));
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{out:#?}");
    assert!(
        lines[0].starts_with(&prefix),
        "want {prefix}…, got {}",
        lines[0]
    );
    assert!(
        lines[0].contains(mention),
        "`{mention}` not in {}",
        lines[0]
    );
}

#[test]
fn bad_toml_is_exit_2_with_its_line() {
    let case = "\n[[case]]\nname = \"x\"\nrequest = \"GET /\"\nexpect = { status = 200\n";
    assert_malformed(case, "expect", 24, "expected `}`");
}

#[test]
fn an_unknown_key_is_exit_2_with_its_line() {
    let case = "\n[[case]]\nname = \"x\"\nrequest = \"GET /\"\nexpected = { status = 200 }\n";
    assert_malformed(case, "expected =", 1, "unknown field `expected`");
    let case =
        "\n[[case]]\nname = \"x\"\nrequest = \"GET /\"\nexpect = { status = 200, code = 1 }\n";
    assert_malformed(case, "expect =", 26, "unknown field `code`");
}

#[test]
fn a_bad_request_line_is_exit_2_with_its_line() {
    for (request, mention) in [
        ("GET/x", "must be `METHOD /path`"),
        ("get /x", "must be uppercase"),
        ("GET x y", "must be one path"),
    ] {
        let case = format!(
            "\n[[case]]\nname = \"x\"\nrequest = \"{request}\"\nexpect = {{ status = 200 }}\n"
        );
        assert_malformed(&case, "request =", 11, mention);
    }
}

#[test]
fn a_broken_config_is_exit_2_with_the_configs_error_location() {
    let (dir, file) = setup(OWN_TENANT);
    let config = dir.path.join("warden.toml");
    let broken = CONFIG.replace("claims.tenant ==", "claims.tenantx ==");
    std::fs::write(&config, &broken).unwrap();
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(2), "{out:#?}");
    assert_eq!(out.stdout, "", "{out:#?}");
    let line = broken[..broken.find("when =").unwrap()]
        .matches('\n')
        .count()
        + 1;
    let want = format!(
        "{}:line {line}, column 9: `rule[0].when[0]`: ",
        config.display()
    );
    assert!(out.stderr.starts_with(&want), "want {want}…: {out:#?}");
    assert!(out.stderr.contains("tenantx"), "{out:#?}");
}

#[test]
fn a_missing_config_is_exit_2_at_the_config_key() {
    let (dir, file) = setup(OWN_TENANT);
    std::fs::remove_file(dir.path.join("warden.toml")).unwrap();
    let out = warden_test(&[&file]);
    assert_eq!(out.status.code(), Some(2), "{out:#?}");
    let want = format!("{}:1:10: cannot read `", file.display());
    assert!(out.stderr.starts_with(&want), "want {want}…: {out:#?}");
}

/// `examples/*/warden.toml`, each with the test file beside it.
fn example_test_files() -> Vec<PathBuf> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("warden.toml").exists() {
            let test = dir.join("warden.test.toml");
            assert!(test.exists(), "{} has no warden.test.toml", dir.display());
            files.push(test);
        }
    }
    files.sort();
    files
}

#[test]
fn every_example_test_file_passes() {
    let files = example_test_files();
    assert!(files.len() >= 8, "{files:?}");
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = warden_test(&args);
    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    let cases: usize = (files.iter())
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .matches("[[case]]")
                .count()
        })
        .sum();
    assert_eq!(
        out.stdout,
        format!("{cases} passed, 0 failed\n"),
        "{out:#?}"
    );
}
