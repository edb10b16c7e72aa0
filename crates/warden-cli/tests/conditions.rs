//! Rule conditions over real sockets: JWTs carrying claims against Cedar conditions on the
//! path, the method, a header and the client network; the status classes (200, 401 with its
//! challenge, 403, 404 hidden), the warning logged for a condition that cannot be evaluated,
//! `warden check` explaining a denial, and `config check` locating a bad condition.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tokens::{Signer, claims, mint};
use common::*;
use serde_json::{Value, json};

const JSON: (&str, &str) = ("Accept", "application/json");

fn config() -> String {
    let mut text = standard_config();
    text.push_str(
        r#"[policy.claims]
tenant = "String"
amr = "Set<String>"
[[rule]]
name = "invoices"
path = "/tenants/{tenant}/invoices/**"
require = "authenticated"
when = [
  'principal.claims.tenant == context.params.tenant',
  'context.method == "GET" || principal.roles.contains("admin")',
]
[[rule]]
name = "vault"
path = "/vault/**"
require = "authenticated"
hide = true
when = ['principal.claims.amr.contains("mfa")']
[[rule]]
name = "reports"
path = "/reports/**"
require = "authenticated"
when = ['context.headers.hasTag("x-tenant") && context.headers.getTag("x-tenant") == principal.claims.tenant']
"#,
    );
    text
}

/// A token for alice with these extra claims.
fn token_with(roles: &[&str], extra: Value) -> String {
    let mut c = claims("alice", roles, "");
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    format!("Bearer {}", mint(Signer::Es256, &c))
}

fn get(w: &Warden, path: &str, auth: &str, extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![("Authorization", auth), JSON];
    headers.extend_from_slice(extra);
    w.get(path, &headers)
}

fn assert_denied(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{r:#?}");
    assert!(r.challenges().is_empty(), "no challenge: {r:#?}");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.json()["status"], status);
    assert_eq!(r.code(), code);
    assert!(
        !r.body.contains("claims"),
        "the condition is not told: {}",
        r.body
    );
}

#[test]
fn conditions_decide_over_http_with_the_right_status_class() {
    let w = Env::new(&config()).serve();
    let acme = token_with(&[], json!({"tenant": "acme"}));
    let r = get(&w, "/tenants/acme/invoices/1", &acme, &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("x-auth-subject"), Some("alice"));
    assert_denied(
        &get(&w, "/tenants/globex/invoices/1", &acme, &[]),
        403,
        "forbidden",
    );
    let r = w.send(
        "DELETE",
        "/tenants/acme/invoices/1",
        &[("Authorization", &acme), JSON],
    );
    assert_denied(&r, 403, "forbidden");
    let admin = token_with(&["admin"], json!({"tenant": "acme"}));
    let r = w.send(
        "DELETE",
        "/tenants/acme/invoices/1",
        &[("Authorization", &admin), JSON],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    // No credentials: the 401 with its challenges, never a condition's 403.
    let r = w.get("/tenants/acme/invoices/1", &[JSON]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC]);
    // A hidden rule: a failed condition is a plain 404.
    let pwd = token_with(&[], json!({"amr": ["pwd"]}));
    assert_denied(&get(&w, "/vault/x", &pwd, &[]), 404, "not_found");
    let mfa = token_with(&[], json!({"amr": ["pwd", "mfa"]}));
    assert_eq!(get(&w, "/vault/x", &mfa, &[]).status, 200);
    // A header the condition names.
    assert_eq!(
        get(&w, "/reports/q3", &acme, &[("X-Tenant", "acme")]).status,
        200
    );
    assert_denied(
        &get(&w, "/reports/q3", &acme, &[("X-Tenant", "globex")]),
        403,
        "forbidden",
    );
    assert_denied(&get(&w, "/reports/q3", &acme, &[]), 403, "forbidden");
}

#[test]
fn a_condition_that_cannot_be_evaluated_is_a_403_with_a_logged_reason() {
    let w = Env::new(&config()).serve();
    // `amr` sent as a string: `.contains` cannot be evaluated on it.
    let odd = token_with(&[], json!({"amr": "mfa"}));
    let r = get(&w, "/vault/x", &odd, &[]);
    assert_denied(&r, 404, "not_found");
    // No tenant claim at all.
    let none = token_with(&[], json!({}));
    let r = get(&w, "/tenants/acme/invoices/1", &none, &[]);
    assert_denied(&r, 403, "forbidden");
    poll_until(std::time::Duration::from_secs(2), "the warning", || {
        let log = w.log();
        log.lines()
            .find(|l| l.contains("could not be evaluated") && l.contains("rule[4].when[0]"))
            .map(str::to_owned)
    });
    let log = w.log();
    assert!(log.contains("condition_error"), "{log}");
    assert!(
        !log.contains(none.trim_start_matches("Bearer ")),
        "no token in the log"
    );
}

#[test]
fn warden_check_explains_which_condition_failed_and_with_what() {
    let env = Env::new(&config());
    let acme = token_with(&[], json!({"tenant": "acme"}));
    let auth = format!("Authorization: {acme}");
    let out = env
        .cli(
            &["check", "DELETE", "/tenants/globex/invoices/9", "-H", &auth],
            None,
        )
        .ok();
    let s = &out.stdout;
    assert!(s.contains("rule:     invoices"), "{s}");
    assert!(s.contains("decision: deny (condition_failed)"), "{s}");
    assert!(
        s.contains("FAILS  rule[4].when[0]: principal.claims.tenant == context.params.tenant"),
        "{s}"
    );
    assert!(s.contains("principal.claims.tenant = \"acme\""), "{s}");
    assert!(s.contains("context.params.tenant = \"globex\""), "{s}");
    assert!(s.contains("context.method = \"DELETE\""), "{s}");
    assert!(s.contains("status:   403"), "{s}");
    assert!(
        !s.contains(acme.trim_start_matches("Bearer ")),
        "the token is not printed back"
    );
}

#[test]
fn config_check_locates_a_condition_cedar_refuses() {
    let text = config().replace(
        "'principal.claims.amr.contains(\"mfa\")'",
        "'principal.claims.amrx.contains(\"mfa\")'",
    );
    let env = Env::new(&text);
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let line = text.lines().position(|l| l.contains("amrx")).unwrap() + 1;
    assert!(
        out.stderr
            .contains(&format!("line {line}, column 9: `rule[5].when[0]`")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("amrx"), "{}", out.stderr);
}
