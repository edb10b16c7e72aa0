//! The status contract, one table row per situation, all against one running server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod contract_rows;

use std::collections::HashSet;

use common::tokens::{Signer, claims, mint, now, token};
use common::*;
use contract_rows::*;

/// Rules beyond the standard four, for hiding, closing, scheme subsets, any-of roles,
/// all-of scopes, hosts and step-up (RFC 9470).
const EXTRA_RULES: &str = r#"
[[rule]]
name = "secret"
path = "/secret/**"
require = { roles = ["admin"] }
hide = true
[[rule]]
name = "closed"
path = "/closed/**"
allow = "nobody"
[[rule]]
name = "vault"
path = "/vault/**"
allow = "nobody"
hide = true
[[rule]]
name = "jwt-only"
path = "/jwt-only/**"
require = "authenticated"
authn = ["jwt"]
[[rule]]
name = "basic-only"
path = "/basic-only/**"
require = "authenticated"
authn = ["basic"]
[[rule]]
name = "keys-only"
path = "/keys-only/**"
require = "authenticated"
authn = ["api_key"]
[[rule]]
name = "reports"
path = "/reports/**"
require = { roles = ["analyst", "admin"] }
[[rule]]
name = "billing"
path = "/api/billing/**"
require = { scopes = ["billing:read", "billing:write"] }
[[rule]]
name = "api-host"
host = "api.example.com"
path = "/v1/**"
allow = "anyone"
[[rule]]
name = "payments"
path = "/payments/**"
require = { acr = ["mfa", "phr"] }
[[rule]]
name = "settings"
path = "/settings/**"
require = { roles = ["admin"], max_age = 300 }
[[rule]]
name = "wire"
path = "/wire/**"
require = { acr = ["mfa"], max_age = 300 }
"#;

fn big(prefix: &str) -> String {
    format!("{prefix}{}", "a".repeat(9 * 1024))
}

/// Credentials the rows use.
struct Fx {
    admin: String,
    viewer: String,
    writer: String,
    analyst: String,
    half_billing: String,
    expired: String,
    early: String,
    forged: String,
    carol: String,
    erin: String,
    dave: String,
    key: String,
    key_bearer: String,
    revoked: String,
    /// Signed in with a password (`acr` `pwd`) a minute ago.
    pwd_recent: String,
    /// Signed in with `mfa` an hour ago.
    mfa_old: String,
    /// Signed in with `mfa` ten seconds ago.
    mfa_recent: String,
}

const ALICE: Ident = ("alice", "admin,ops", "orders:write orders:read", "jwt");
const ANON: Ident = ("", "", "", "");
const CI: Ident = ("ci", "deployer", "", "api_key");
const CAROL: Ident = ("carol", "admin", "", "basic");
const UNKNOWN_KEY: &str = "wdn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BILLING_SCOPE: &str =
    r#"Bearer realm="example", error="insufficient_scope", scope="billing:read billing:write""#;
const STEP_UP_ACR: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa phr""#;
const STEP_UP_AGE: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300""#;
const STEP_UP_WIRE_ACR: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa", max_age="300""#;
const STEP_UP_WIRE_AGE: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a more recent authentication is required", acr_values="mfa", max_age="300""#;
const STEPPED: Ident = ("alice", "admin", "", "jwt");
const SU: &str = "insufficient_user_authentication";

/// The table: one row per situation of the status contract.
#[rustfmt::skip]
fn rows(f: &Fx) -> Vec<Row> {
    let a = "Authorization";
    let (b, ba, bi, br) = (BEARER, BASIC, BEARER_INVALID, BEARER_BAD_REQUEST);
    let (big_auth, big_cookie, big_key) = (big("Bearer "), big("session="), big("wdn_"));
    let at_limit = format!("Bearer {}", "a".repeat(8 * 1024 - 7));
    let lower = f.admin.replacen("Bearer", "bearer", 1);
    let bob = |name, path| deny(name, "GET", path, &[(a, &f.viewer)], 403, &[], PROBLEM, "forbidden");
    vec![
        allow("anyone, anonymous", "GET", "/health", &[], ANON),
        allow("anyone, even with bad credentials", "GET", "/health", &[(a, "Bearer a b")], ANON),
        deny("no credentials", "GET", "/private/x", &[], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("no credentials, Accept json", "GET", "/private/x", &[("Accept", "application/json")], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("no credentials, Accept */*", "GET", "/private/x", &[("Accept", "*/*")], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("no credentials, Accept text/plain", "GET", "/private/x", &[("Accept", "text/plain")], 401, &[b, ba], TEXT, ""),
        deny("malformed Bearer, browser navigate", "GET", "/private/x", &[(a, "Bearer a b"), ("Sec-Fetch-Mode", "navigate")], 400, &[br], HTML, ""),
        deny("network denied, browser Accept", "GET", "/private/x", &[("X-Forwarded-For", "203.0.113.7"), ("Accept", BROWSER_ACCEPT)], 403, &[], HTML, ""),
        deny("unsupported scheme Negotiate", "GET", "/private/x", &[(a, "Negotiate YIIB")], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("unsupported scheme Digest", "GET", "/private/x", &[(a, "Digest username=\"a\", realm=\"example\"")], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("query access_token alone", "GET", "/private/x?access_token=abc", &[], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("Bearer a b", "GET", "/private/x", &[(a, "Bearer a b")], 400, &[br], PROBLEM, "invalid_request"),
        deny("Bearer without token", "GET", "/private/x", &[(a, "Bearer")], 400, &[br], PROBLEM, "invalid_request"),
        deny("Bearer =x", "GET", "/private/x", &[(a, "Bearer =x")], 400, &[br], PROBLEM, "invalid_request"),
        deny("Bearer<TAB>token", "GET", "/private/x", &[(a, "Bearer\tabc")], 400, &[br], PROBLEM, "invalid_request"),
        deny("two Authorization lines", "GET", "/private/x", &[(a, &f.admin), (a, &f.admin)], 400, &[br], PROBLEM, "invalid_request"),
        deny("Authorization and X-API-Key", "GET", "/private/x", &[(a, &f.admin), ("X-API-Key", &f.key)], 400, &[br], PROBLEM, "invalid_request"),
        deny("Authorization and ?access_token", "GET", "/private/x?access_token=abc", &[(a, &f.admin)], 400, &[br], PROBLEM, "invalid_request"),
        deny("Basic bad base64", "GET", "/private/x", &[(a, "Basic ####")], 401, &[b, ba], PROBLEM, "invalid_credentials"),
        deny("Basic without colon", "GET", "/private/x", &[(a, "Basic Y2Fyb2w=")], 401, &[b, ba], PROBLEM, "invalid_credentials"),
        deny("Basic unknown user", "GET", "/private/x", &[(a, &basic("mallory", "x"))], 401, &[b, ba], PROBLEM, "invalid_credentials"),
        deny("Basic wrong password", "GET", "/private/x", &[(a, &basic("carol", "wrong"))], 401, &[b, ba], PROBLEM, "invalid_credentials"),
        deny("Basic disabled user", "GET", "/private/x", &[(a, &f.dave)], 401, &[b, ba], PROBLEM, "invalid_credentials"),
        allow("Basic valid", "GET", "/private/x", &[(a, &f.carol)], CAROL),
        deny("Basic valid, missing role", "GET", "/admin/x", &[(a, &f.erin)], 403, &[], PROBLEM, "forbidden"),
        deny("Basic valid, missing scope", "POST", "/api/orders/1", &[(a, &f.carol)], 403, &[BEARER_SCOPE], PROBLEM, "insufficient_scope"),
        allow("JWT valid", "GET", "/private/x", &[(a, &f.admin)], ALICE),
        allow("JWT, lowercase scheme", "GET", "/private/x", &[(a, &lower)], ALICE),
        deny("JWT garbage abc.def.ghi", "GET", "/private/x", &[(a, "Bearer abc.def.ghi")], 401, &[bi, ba], PROBLEM, "invalid_token"),
        deny("JWT bad signature", "GET", "/private/x", &[(a, &f.forged)], 401, &[bi, ba], PROBLEM, "invalid_token"),
        deny("JWT expired", "GET", "/private/x", &[(a, &f.expired)], 401, &[BEARER_EXPIRED, ba], PROBLEM, "invalid_token"),
        deny("JWT expired, text/plain", "GET", "/private/x", &[(a, &f.expired), ("Accept", "text/plain")], 401, &[BEARER_EXPIRED, ba], TEXT, ""),
        deny("JWT not yet valid", "GET", "/private/x", &[(a, &f.early)], 401, &[BEARER_EARLY, ba], PROBLEM, "invalid_token"),
        deny("unknown wdn_ key as Bearer", "GET", "/private/x", &[(a, &bearer(UNKNOWN_KEY))], 401, &[bi, ba], PROBLEM, "invalid_token"),
        deny("unknown wdn_ key as X-API-Key", "GET", "/private/x", &[("X-API-Key", UNKNOWN_KEY)], 401, &[bi, ba], PROBLEM, "invalid_token"),
        deny("revoked key", "GET", "/private/x", &[("X-API-Key", &f.revoked)], 401, &[bi, ba], PROBLEM, "invalid_token"),
        allow("key as Bearer", "GET", "/private/x", &[(a, &f.key_bearer)], CI),
        allow("key as X-API-Key", "GET", "/private/x", &[("X-API-Key", &f.key)], CI),
        allow("admin role", "GET", "/admin/x", &[(a, &f.admin)], ALICE),
        allow("admin role, rule base path", "GET", "/admin", &[(a, &f.admin)], ALICE),
        bob("missing role", "/admin/x"),
        bob("missing role, base path", "/admin"),
        deny("missing role, browser page", "GET", "/admin/x", &[(a, &f.viewer), ("Sec-Fetch-Mode", "navigate")], 403, &[], HTML, ""),
        allow("roles are any-of", "GET", "/reports/q3", &[(a, &f.analyst)], ("ann", "analyst", "", "jwt")),
        deny("missing role, hidden rule", "GET", "/secret/x", &[(a, &f.viewer)], 404, &[], PROBLEM, "not_found"),
        allow("hidden rule, admin", "GET", "/secret/x", &[(a, &f.admin)], ALICE),
        deny("no credentials, hidden rule", "GET", "/secret/x", &[], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("closed", "GET", "/closed/x", &[(a, &f.admin)], 403, &[], PROBLEM, "closed"),
        deny("closed, hidden", "GET", "/vault/x", &[], 404, &[], PROBLEM, "not_found"),
        deny("missing scope", "POST", "/api/orders/1", &[(a, &f.viewer)], 403, &[BEARER_SCOPE], PROBLEM, "insufficient_scope"),
        allow("scope present", "POST", "/api/orders/1", &[(a, &f.writer)], ("wanda", "", "orders:write", "jwt")),
        deny("scopes are all-of", "DELETE", "/api/billing/1", &[(a, &f.half_billing)], 403, &[BILLING_SCOPE], PROBLEM, "insufficient_scope"),
        deny("method not covered: no rule", "GET", "/api/orders/1", &[(a, &f.writer)], 403, &[], PROBLEM, "no_rule"),
        deny("no rule", "GET", "/nothing/here", &[], 403, &[], PROBLEM, "no_rule"),
        deny("no rule for root", "GET", "/", &[(a, &f.admin)], 403, &[], PROBLEM, "no_rule"),
        allow("host rule, matching Host", "GET", "/v1/x", &[("Host", "api.example.com:8080")], ANON),
        deny("host rule, other Host", "GET", "/v1/x", &[("Host", "www.example.com")], 403, &[], PROBLEM, "no_rule"),
        deny("network denied", "GET", "/private/x", &[("X-Forwarded-For", "203.0.113.7")], 403, &[], PROBLEM, "network_denied"),
        deny("network denied, before credentials", "GET", "/admin/x", &[("X-Forwarded-For", "198.51.100.1, 203.0.113.7"), (a, &f.admin)], 403, &[], PROBLEM, "network_denied"),
        deny("network denied, even on anyone", "GET", "/health", &[("X-Forwarded-For", "203.0.113.7")], 403, &[], PROBLEM, "network_denied"),
        deny("network denied behind a trusted hop", "GET", "/health", &[("X-Forwarded-For", "203.0.113.7, 127.0.0.1")], 403, &[], PROBLEM, "network_denied"),
        allow("X-Forwarded-For: only the rightmost untrusted hop counts", "GET", "/health", &[("X-Forwarded-For", "203.0.113.7, 198.51.100.1")], ANON),
        deny("Authorization of exactly 8 KiB is read", "GET", "/private/x", &[(a, &at_limit)], 401, &[bi, ba], PROBLEM, "invalid_token"),
        deny("Authorization over 8 KiB", "GET", "/private/x", &[(a, &big_auth)], 431, &[], PROBLEM, "header_too_large"),
        deny("X-API-Key over 8 KiB", "GET", "/private/x", &[("X-API-Key", &big_key)], 431, &[], PROBLEM, "header_too_large"),
        deny("Cookie over 8 KiB", "GET", "/private/x", &[("Cookie", &big_cookie)], 431, &[], PROBLEM, "header_too_large"),
        deny("path with %2F", "GET", "/private%2Fx", &[(a, &f.admin)], 400, &[], PROBLEM, "bad_path"),
        deny("path with %5C", "GET", "/private/a%5Cb", &[(a, &f.admin)], 400, &[], PROBLEM, "bad_path"),
        deny("path with %00", "GET", "/private/a%00", &[(a, &f.admin)], 400, &[], PROBLEM, "bad_path"),
        deny("path with %0a", "GET", "/private/a%0a", &[(a, &f.admin)], 400, &[], PROBLEM, "bad_path"),
        bob("dot segments /private/../admin", "/private/../admin"),
        bob("double slash //admin", "//admin"),
        bob("encoded dot segments", "/private/%2e%2e/admin"),
        bob("absolute-form target", "http://localhost/admin/x"),
        deny("dot segments out of an open rule", "GET", "/health/../admin/x", &[], 401, &[b, ba], PROBLEM, "unauthenticated"),
        bob("encoded letter /%61dmin", "/%61dmin"),
        bob("matrix parameter /admin;x", "/admin;x"),
        bob("trailing dot /admin/.", "/admin/."),
        allow("dot segments, admin", "GET", "/private/../admin", &[(a, &f.admin)], ALICE),
        allow("encoded letter, admin", "GET", "/%61dmin/x", &[(a, &f.admin)], ALICE),
        deny("jwt-only rule, Basic sent", "GET", "/jwt-only/x", &[(a, &f.carol)], 401, &[b], PROBLEM, "unauthenticated"),
        deny("jwt-only rule, X-API-Key sent", "GET", "/jwt-only/x", &[("X-API-Key", &f.key)], 401, &[b], PROBLEM, "unauthenticated"),
        deny("jwt-only rule, bad token", "GET", "/jwt-only/x", &[(a, &f.forged)], 401, &[bi], PROBLEM, "invalid_token"),
        deny("basic-only rule, no credentials", "GET", "/basic-only/x", &[], 401, &[ba], PROBLEM, "unauthenticated"),
        deny("basic-only rule, Bearer sent", "GET", "/basic-only/x", &[(a, &f.admin)], 401, &[ba], PROBLEM, "unauthenticated"),
        deny("basic-only rule, malformed Bearer", "GET", "/basic-only/x", &[(a, "Bearer a b")], 400, &[ba], PROBLEM, "invalid_request"),
        allow("basic-only rule, Basic", "GET", "/basic-only/x", &[(a, &f.carol)], CAROL),
        deny("keys-only rule, no credentials", "GET", "/keys-only/x", &[], 401, &[b], PROBLEM, "unauthenticated"),
        deny("keys-only rule, Basic sent", "GET", "/keys-only/x", &[(a, &f.carol)], 401, &[b], PROBLEM, "unauthenticated"),
        allow("keys-only rule, key", "GET", "/keys-only/x", &[("X-API-Key", &f.key)], CI),
        deny("step-up: no credentials, no error", "GET", "/payments/1", &[], 401, &[b, ba], PROBLEM, "unauthenticated"),
        deny("step-up: token without acr", "GET", "/payments/1", &[(a, &f.admin)], 401, &[STEP_UP_ACR, ba], PROBLEM, SU),
        deny("step-up: acr not listed", "GET", "/payments/1", &[(a, &f.pwd_recent)], 401, &[STEP_UP_ACR, ba], PROBLEM, SU),
        deny("step-up: acr, text/plain", "GET", "/payments/1", &[(a, &f.pwd_recent), ("Accept", "text/plain")], 401, &[STEP_UP_ACR, ba], TEXT, ""),
        deny("step-up: Basic tells no acr", "GET", "/payments/1", &[(a, &f.carol)], 401, &[STEP_UP_ACR, ba], PROBLEM, SU),
        allow("step-up: acr listed", "GET", "/payments/1", &[(a, &f.mfa_old)], STEPPED),
        deny("step-up: token without auth_time", "GET", "/settings/x", &[(a, &f.admin)], 401, &[STEP_UP_AGE, ba], PROBLEM, SU),
        deny("step-up: sign-in too old", "GET", "/settings/x", &[(a, &f.mfa_old)], 401, &[STEP_UP_AGE, ba], PROBLEM, SU),
        deny("step-up: role before step-up", "GET", "/settings/x", &[(a, &f.viewer)], 403, &[], PROBLEM, "forbidden"),
        allow("step-up: recent sign-in", "GET", "/settings/x", &[(a, &f.pwd_recent)], STEPPED),
        deny("step-up: both, acr short", "GET", "/wire/1", &[(a, &f.pwd_recent)], 401, &[STEP_UP_WIRE_ACR, ba], PROBLEM, SU),
        deny("step-up: both, too old", "GET", "/wire/1", &[(a, &f.mfa_old)], 401, &[STEP_UP_WIRE_AGE, ba], PROBLEM, SU),
        allow("step-up: both met", "GET", "/wire/1", &[(a, &f.mfa_recent)], STEPPED),
    ]
}

fn token_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut c = claims("alice", &["admin"], "");
    edit(&mut c);
    bearer(&mint(Signer::Es256, &c))
}

/// A token for alice (admin) whose user signed in with `acr` this many seconds ago.
fn signed_in(acr: &str, ago: u64) -> String {
    token_with(|c| {
        c["acr"] = acr.into();
        c["auth_time"] = (now() - ago).into();
    })
}

#[test]
fn status_contract_table() {
    let env = Env::new(&(standard_config() + EXTRA_RULES));
    env.add_user("carol", "correct horse", &["admin"]);
    env.add_user("erin", "pw-erin", &["viewer"]);
    env.add_user("dave", "pw-dave", &["admin"]);
    env.cli(&["user", "disable", "dave"], None).ok();
    let key = env.create_key("ci", &["deployer"]);
    let revoked = env.create_key("old", &["admin"]);
    let old_id = env.key_id("old");
    env.cli(&["key", "revoke", &old_id], None).ok();
    let warden = env.serve();
    let f = Fx {
        admin: bearer(&token(
            "alice",
            &["admin", "ops"],
            "orders:write orders:read",
        )),
        viewer: bearer(&token("bob", &["viewer"], "orders:read")),
        writer: bearer(&token("wanda", &[], "orders:write")),
        analyst: bearer(&token("ann", &["analyst"], "")),
        half_billing: bearer(&token("bill", &[], "billing:read")),
        expired: token_with(|c| c["exp"] = (now() - 3600).into()),
        early: token_with(|c| c["nbf"] = (now() + 3600).into()),
        forged: bearer(&mint(Signer::Other, &claims("alice", &["admin"], ""))),
        carol: basic("carol", "correct horse"),
        erin: basic("erin", "pw-erin"),
        dave: basic("dave", "pw-dave"),
        key_bearer: bearer(&key),
        key,
        revoked,
        pwd_recent: signed_in("pwd", 60),
        mfa_old: signed_in("mfa", 3600),
        mfa_recent: signed_in("mfa", 10),
    };
    let rows = rows(&f);
    assert!(rows.len() >= 40);

    let mut failures = Vec::new();
    let mut ids = HashSet::new();
    for row in &rows {
        let h: Vec<(&str, &str)> = row
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let r = warden.send(row.method, &row.target, &h);
        if !ids.insert(r.decision()) {
            failures.push(format!(
                "[{}] decision id {:?} reused",
                row.name,
                r.decision()
            ));
        }
        for problem in check(row, &r) {
            failures.push(format!(
                "[{}] {} {}: {problem}",
                row.name, row.method, row.target
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
