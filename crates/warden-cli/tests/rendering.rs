//! Rendering: body formats chosen by `Accept` / `Sec-Fetch-Mode`, HTML escaping, identity
//! header encoding, realm quoting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tokens::token;
use common::*;

/// The 403 page names who is signed in, HTML-escaped.
#[test]
fn forbidden_page_names_the_subject_escaped() {
    let warden = Env::new(&standard_config()).serve();
    let t = bearer(&token("<script>x</script>", &["viewer"], ""));
    let r = warden.get(
        "/admin/x",
        &[("Authorization", &t), ("Accept", BROWSER_ACCEPT)],
    );
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.header("content-type"), Some(HTML));
    assert!(
        r.body.contains("&lt;script&gt;x&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("<script>"),
        "unescaped subject: {}",
        r.body
    );
    assert!(r.body.contains(&r.decision()), "{}", r.body);
}

/// Identity values that are not plain ASCII are percent-encoded in the identity headers.
#[test]
fn identity_headers_are_percent_encoded() {
    let warden = Env::new(&standard_config()).serve();
    let t = bearer(&token("josé 100%\u{7}", &["admin", "ré"], "a:b c"));
    let r = warden.get("/admin/x", &[("Authorization", &t)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["jos%C3%A9 100%25%07"]);
    assert_eq!(r.all("x-auth-roles"), ["admin,r%C3%A9"]);
    assert_eq!(r.all("x-auth-scopes"), ["a:b c"]);
    assert_eq!(r.all("x-auth-method"), ["jwt"]);
}

/// A realm with `"` and `\` is escaped in every challenge.
#[test]
fn realm_is_quoted_and_escaped() {
    let config = replace(
        &standard_config(),
        r#"realm = "example""#,
        r#"realm = 'my "big" \realm'"#,
    );
    let warden = Env::new(&config).serve();
    let r = warden.get("/private/x", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.challenges(),
        [
            r#"Bearer realm="my \"big\" \\realm""#,
            r#"Basic realm="my \"big\" \\realm", charset="UTF-8""#
        ]
    );
    let r = warden.get("/private/x", &[("Authorization", "Bearer abc.def.ghi")]);
    assert_eq!(
        r.challenges()[0],
        r#"Bearer realm="my \"big\" \\realm", error="invalid_token", error_description="the access token is invalid""#
    );
}

/// Content negotiation by q-value; `*/*` alone never makes a browser. (Without Basic, so no
/// login page is available and browsers get the 401 page.)
#[test]
fn body_format_follows_accept() {
    let warden = Env::new(&replace(&standard_config(), "[authn.basic]\n", "")).serve();
    let cases = [
        (vec![], PROBLEM),
        (vec![("Accept", "*/*")], PROBLEM),
        (vec![("Accept", "application/json")], PROBLEM),
        (vec![("Accept", "application/problem+json")], PROBLEM),
        (
            vec![("Accept", "text/html;q=0.5, application/json")],
            PROBLEM,
        ),
        (vec![("Accept", "text/html, application/json;q=0.5")], HTML),
        (vec![("Accept", BROWSER_ACCEPT)], HTML),
        (
            vec![("Accept", "*/*"), ("Sec-Fetch-Mode", "navigate")],
            HTML,
        ),
        (vec![("Accept", "*/*"), ("Sec-Fetch-Mode", "cors")], PROBLEM),
        (vec![("Accept", "text/plain")], TEXT),
        (vec![("Accept", "image/png")], TEXT),
    ];
    for (headers, want) in cases {
        let r = warden.get("/private/x", &headers);
        assert_eq!(r.status, 401, "{headers:?}");
        assert_eq!(r.challenges(), [BEARER], "{headers:?}");
        assert_eq!(r.header("content-type"), Some(want), "{headers:?}");
        let id = r.decision();
        assert!(
            r.body.contains(&id),
            "{headers:?}: no decision id in {}",
            r.body
        );
        if want == PROBLEM {
            assert_eq!(r.json()["instance"], format!("urn:warden:decision:{id}"));
        }
        if want == TEXT {
            assert!(r.body.starts_with("401 Unauthorized"), "{}", r.body);
        }
        if want == HTML {
            assert!(r.body.contains("<html"), "{}", r.body);
        }
    }
}
