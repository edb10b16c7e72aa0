//! Path bypasses, sent byte for byte with the raw client so nothing normalizes the request on
//! the way: every spelling of `/admin` reaches the admin rule (or is refused), paths are
//! case-sensitive, encoded separators and control characters are 400, overlong and double
//! encodings are judged literally.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bypass_rows;
mod common;

use bypass_rows::*;
use common::*;

/// Spellings of `/admin/x`: each is judged by the admin rule. Anonymous is 401, a viewer 403,
/// an admin 200; so no spelling reaches another rule or none.
#[test]
fn spellings_of_admin_reach_the_admin_rule() {
    let warden = Env::new(&standard_config()).serve();
    let (admin, viewer) = (admin(), viewer());
    let spellings = [
        "/admin/x",
        "/admin",
        "/admin/",
        "/admin/.",
        "/admin/x/.",
        "/admin/./x",
        "/./admin/x",
        "//admin",
        "//admin/x",
        "///admin//x",
        "/private/../admin",
        "/private/../admin/x",
        "/private/x/../../admin/x",
        "/health/../admin/x",
        "/../admin/x",
        "/../../../admin/x",
        "/%61dmin",
        "/%61dmin/x",
        "/%61%64%6D%69%6E/x",
        "/%61%64%6d%69%6e/x",
        "/admin/%78",
        "/%2e%2e/admin/x",
        "/%2E%2E/admin/x",
        "/%2e/admin/x",
        "/private/%2e%2e/admin/x",
        "/private/.%2e/admin/x",
        "/private/%2e./admin/x",
        "/admin;param",
        "/admin;param/x",
        "/admin;/x",
        "/admin/x;jsessionid=1",
        "/private/..;/admin/x",
        "/private;x/..;y/admin/x",
        "/admin/x?",
        "/admin/x?y=1&z",
        "/admin/x#fragment",
        "http://localhost/admin/x",
    ];
    let mut rows = Vec::new();
    for path in spellings {
        rows.push(row(
            format!("{path} anonymous"),
            path,
            &[],
            unauthenticated(),
        ));
        rows.push(row(
            format!("{path} viewer"),
            path,
            &[("Authorization", &viewer)],
            forbidden(),
        ));
        rows.push(row(
            format!("{path} admin"),
            path,
            &[("Authorization", &admin)],
            Want::Allow("alice"),
        ));
    }
    run("spellings of /admin", &warden, &rows);
}

/// Paths are case-sensitive (documented): `/ADMIN` is not `/admin`, it matches no rule and the
/// default deny answers, for an admin too. The same for spellings that only decode to a
/// different segment.
#[test]
fn other_segments_fall_to_default_deny() {
    let warden = Env::new(&standard_config()).serve();
    let admin = admin();
    let paths = [
        "/ADMIN",
        "/ADMIN/x",
        "/Admin/x",
        "/aDmIn/x",
        "/%41DMIN/x",
        "/admin%3Bx/y",
        "/admin%20/x",
        "/admin%2E/x",
        "/admin../x",
        "/admin..;/x",
        "/admi%6E%2e/x",
        "/.admin/x",
        "/admin~/x",
        "/admin\"x",
    ];
    let mut rows = Vec::new();
    for path in paths {
        rows.push(row(format!("{path} anonymous"), path, &[], no_rule()));
        rows.push(row(
            format!("{path} admin"),
            path,
            &[("Authorization", &admin)],
            no_rule(),
        ));
    }
    run("case-sensitive and undecoded segments", &warden, &rows);
}

/// Encoded separators, NUL and control characters are 400 `bad_path`, whatever the
/// credentials; broken escapes too.
#[test]
fn ambiguous_paths_are_bad_requests() {
    let warden = Env::new(&standard_config()).serve();
    let admin = admin();
    let paths = [
        "/admin%2Fx",
        "/admin%2fx",
        "/private%2F..%2Fadmin/x",
        "/private/..%2Fadmin/x",
        "/health%2F..%2F..%2Fadmin",
        "/admin%5Cx",
        "/admin%5cx",
        "/private/..%5Cadmin/x",
        "/admin%00",
        "/admin%00/x",
        "/admin/x%00.html",
        "/health%00/../admin/x",
        "/admin%0d%0aX-Injected:%201",
        "/admin%0A/x",
        "/admin%09x",
        "/admin%7F",
        "/admin%1b",
        "/admin%",
        "/admin%2",
        "/admin%zz",
        "/admin%%32%46x",
    ];
    let mut rows = Vec::new();
    for path in paths {
        rows.push(row(format!("{path} anonymous"), path, &[], bad_path()));
        rows.push(row(
            format!("{path} admin"),
            path,
            &[("Authorization", &admin)],
            bad_path(),
        ));
    }
    // Targets the HTTP parser itself refuses: 400 before warden judges anything.
    for raw in ["/admin\\x", "/admin x", "/admin\tx", "/admin\u{7f}x"] {
        rows.push(row(
            format!("{raw:?} raw"),
            raw,
            &[("Authorization", &admin)],
            Want::Status(400),
        ));
    }
    run("ambiguous paths", &warden, &rows);
}

/// Overlong UTF-8 (`%C0%AF` is `/` to a broken decoder) and double encoding (`%252e`) are not
/// decoded into separators or dot segments: the segment is judged literally, so nothing
/// climbs out of `/health` (exact, open to anyone) into `/admin`.
#[test]
fn overlong_and_double_encodings_are_not_separators() {
    let warden = Env::new(&standard_config()).serve();
    let viewer = viewer();
    let mut rows = Vec::new();
    for path in [
        "/health/..%C0%AF../admin/x",
        "/health%C0%AF..%C0%AFadmin/x",
        "/health/..%c0%af..%c0%afadmin",
        "/health/..%E0%80%AF../admin/x",
        "/health/..%C1%9C../admin/x",
        "/health/%252e%252e/admin/x",
        "/health/..%252f..%252fadmin/x",
        "/health/..%255c..%255cadmin/x",
        "/health/%C0%AE%C0%AE/admin/x",
        "/health/%u002e%u002e/admin/x",
    ] {
        // The judged path is under /health, which only matches exactly: default deny.
        let want = if path.contains("%u") {
            bad_path()
        } else {
            no_rule()
        };
        rows.push(row(format!("{path} anonymous"), path, &[], want.clone()));
        rows.push(row(
            format!("{path} viewer"),
            path,
            &[("Authorization", &viewer)],
            want,
        ));
    }
    // Under /private the same spellings stay in /private: a viewer is let in there, not in
    // /admin (the allow is the private rule's).
    rows.push(row(
        "/private/..%C0%AF../admin viewer",
        "/private/..%C0%AF../admin",
        &[("Authorization", &viewer)],
        Want::Allow("bob"),
    ));
    run("overlong and double encodings", &warden, &rows);
}
