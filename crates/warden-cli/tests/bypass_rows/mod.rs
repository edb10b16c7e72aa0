//! The table runner of the bypass suites: a row is a raw request and the answer it must get;
//! every misjudged row is reported at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)] // each suite uses a different part

use crate::common::tokens::token;
use crate::common::*;

/// What a request must get.
#[derive(Debug, Clone)]
pub enum Want {
    /// 200 with this subject in the identity header (`""` for anonymous).
    Allow(&'static str),
    /// A denial: status, exact challenges, problem+json code.
    Deny(u16, Vec<String>, &'static str),
    /// Refused by the HTTP layer before warden judges it: only the status is warden's concern.
    Status(u16),
}

pub struct Row {
    pub name: String,
    pub method: &'static str,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub want: Want,
}

pub fn row(name: impl Into<String>, target: &str, headers: &[(&str, &str)], want: Want) -> Row {
    Row {
        name: name.into(),
        method: "GET",
        target: target.to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        want,
    }
}

pub fn both() -> Vec<String> {
    vec![BEARER.to_owned(), BASIC.to_owned()]
}

pub fn unauthenticated() -> Want {
    Want::Deny(401, both(), "unauthenticated")
}

pub fn invalid_token() -> Want {
    Want::Deny(
        401,
        vec![BEARER_INVALID.to_owned(), BASIC.to_owned()],
        "invalid_token",
    )
}

pub fn forbidden() -> Want {
    Want::Deny(403, vec![], "forbidden")
}

pub fn no_rule() -> Want {
    Want::Deny(403, vec![], "no_rule")
}

pub fn bad_path() -> Want {
    Want::Deny(400, vec![], "bad_path")
}

pub fn invalid_request() -> Want {
    Want::Deny(400, vec![BEARER_BAD_REQUEST.to_owned()], "invalid_request")
}

/// Every way the answer differs from the row.
pub fn mismatches(want: &Want, r: &Response) -> Vec<String> {
    let mut bad = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    match want {
        Want::Allow(sub) => {
            expect(r.status == 200, format!("status {} (want 200)", r.status));
            expect(
                r.all("x-auth-subject") == [*sub],
                format!(
                    "X-Auth-Subject {:?} (want [{sub:?}])",
                    r.all("x-auth-subject")
                ),
            );
        }
        Want::Deny(status, challenges, code) => {
            expect(
                r.status == *status,
                format!("status {} (want {status})", r.status),
            );
            expect(
                r.challenges() == *challenges,
                format!(
                    "WWW-Authenticate {:?} (want {challenges:?})",
                    r.challenges()
                ),
            );
            expect(
                r.all("cache-control") == ["no-store"],
                format!("Cache-Control {:?}", r.all("cache-control")),
            );
            let got = serde_json::from_str::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned));
            expect(
                got.as_deref() == Some(code),
                format!("code {got:?} (want {code})"),
            );
            expect(
                r.header("x-auth-subject").is_none(),
                "identity on a denial".into(),
            );
        }
        Want::Status(status) => {
            expect(
                r.status == *status,
                format!("status {} (want {status})", r.status),
            );
            expect(
                r.header("x-auth-subject").is_none(),
                "identity on a refusal".into(),
            );
        }
    }
    bad
}

/// Sends every row; fails with every misjudged one.
pub fn run(class: &str, warden: &Warden, rows: &[Row]) {
    let mut failures = Vec::new();
    let mut passed = 0;
    for row in rows {
        let h: Vec<(&str, &str)> = row
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let r = warden.send(row.method, &row.target, &h);
        let bad = mismatches(&row.want, &r);
        if bad.is_empty() {
            passed += 1;
        }
        for b in bad {
            failures.push(format!(
                "[{}] {} {:?}: {b}",
                row.name, row.method, row.target
            ));
        }
    }
    eprintln!("{class}: {} cases, {passed} as expected", rows.len());
    assert!(
        failures.is_empty(),
        "{class}: {} of {} rows misjudged:\n{}",
        rows.len() - passed,
        rows.len(),
        failures.join("\n")
    );
}

pub fn admin() -> String {
    bearer(&token("alice", &["admin"], "orders:write"))
}

pub fn viewer() -> String {
    bearer(&token("bob", &["viewer"], "orders:read"))
}
