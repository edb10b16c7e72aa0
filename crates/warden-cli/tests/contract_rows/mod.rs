//! The status-contract table runner: a row is a request and the answer it must get (status,
//! exact challenges, body type, problem `code`, identity headers); `check` lists every way an
//! answer differs from its row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)] // each table uses a different part

use crate::common::*;

/// The identity an allow must carry: subject, roles, scopes, method.
pub type Ident = (&'static str, &'static str, &'static str, &'static str);

pub struct Row {
    pub name: &'static str,
    pub method: &'static str,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    pub challenges: Vec<&'static str>,
    /// Expected `Content-Type` of a denial (allows have an empty body).
    pub content_type: &'static str,
    /// Expected problem `code` of a denial.
    pub code: &'static str,
    /// Expected identity of an allow.
    pub identity: Option<Ident>,
}

pub fn headers(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub fn deny(
    name: &'static str,
    method: &'static str,
    target: &str,
    h: &[(&str, &str)],
    status: u16,
    challenges: &[&'static str],
    content_type: &'static str,
    code: &'static str,
) -> Row {
    Row {
        name,
        method,
        target: target.to_owned(),
        headers: headers(h),
        status,
        challenges: challenges.to_vec(),
        content_type,
        code,
        identity: None,
    }
}

pub fn allow(
    name: &'static str,
    method: &'static str,
    target: &str,
    h: &[(&str, &str)],
    identity: Ident,
) -> Row {
    Row {
        name,
        method,
        target: target.to_owned(),
        headers: headers(h),
        status: 200,
        challenges: Vec::new(),
        content_type: "",
        code: "",
        identity: Some(identity),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "?",
    }
}

/// Every mismatch between a row and the answer.
pub fn check(row: &Row, r: &Response) -> Vec<String> {
    let mut bad = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    expect(
        r.status == row.status,
        format!("status {} (want {})", r.status, row.status),
    );
    let got = r.challenges();
    expect(
        got == row.challenges,
        format!("WWW-Authenticate {got:?} (want {:?})", row.challenges),
    );
    if r.status == 401 {
        expect(!got.is_empty(), "a 401 without WWW-Authenticate".into());
    }
    expect(
        r.header("cache-control") == Some("no-store"),
        format!("Cache-Control {:?}", r.header("cache-control")),
    );
    let id = r.decision();
    expect(!id.is_empty(), "no X-Warden-Decision".into());
    expect(
        r.header("content-length") == Some(&r.body.len().to_string()),
        format!(
            "Content-Length {:?} for a {}-byte body",
            r.header("content-length"),
            r.body.len()
        ),
    );
    expect(
        r.header("retry-after").is_none(),
        "Retry-After on a non-503".into(),
    );
    if let Some((sub, roles, scopes, method)) = row.identity {
        expect(r.body.is_empty(), format!("allow body {:?}", r.body));
        for (name, want) in [
            ("x-auth-subject", sub),
            ("x-auth-roles", roles),
            ("x-auth-scopes", scopes),
            ("x-auth-method", method),
        ] {
            expect(
                r.all(name) == [want],
                format!("{name} {:?} (want [{want:?}])", r.all(name)),
            );
        }
        return bad;
    }
    for name in [
        "x-auth-subject",
        "x-auth-roles",
        "x-auth-scopes",
        "x-auth-method",
    ] {
        expect(r.header(name).is_none(), format!("{name} on a denial"));
    }
    expect(
        r.header("content-type") == Some(row.content_type),
        format!(
            "Content-Type {:?} (want {:?})",
            r.header("content-type"),
            row.content_type
        ),
    );
    let leaked = leaks(&r.body);
    expect(
        leaked.is_empty(),
        format!("body leaks {leaked:?}: {}", r.body),
    );
    expect(
        r.body.contains(&id),
        format!("body does not name decision {id}"),
    );
    if row.content_type == PROBLEM {
        let Ok(p) = serde_json::from_str::<serde_json::Value>(&r.body) else {
            bad.push(format!("problem body is not JSON: {:?}", r.body));
            return bad;
        };
        let s = |k: &str| p[k].as_str().unwrap_or("<missing>").to_owned();
        expect(p["type"].is_string(), format!("type {:?}", p["type"]));
        expect(
            s("title") == reason(row.status),
            format!("title {:?}", s("title")),
        );
        expect(
            p["status"].as_u64() == Some(u64::from(r.status)),
            format!("problem status {} vs HTTP {}", p["status"], r.status),
        );
        expect(!s("detail").is_empty(), "no detail".into());
        expect(
            s("code") == row.code,
            format!("code {:?} (want {:?})", s("code"), row.code),
        );
        expect(
            s("instance") == format!("urn:warden:decision:{id}"),
            format!("instance {:?} vs decision {id}", s("instance")),
        );
        expect(
            s("decision_id") == id,
            format!("decision_id {:?} vs {id}", s("decision_id")),
        );
    }
    bad
}
