//! Reverse-proxy mode, headers and denials: what the upstream receives (identity, forwarding
//! and hop-by-hop headers, method, target, credentials) and what the client receives (warden's
//! own denials, the upstream's own 401/403 unchanged). Bodies, failures, WebSocket and h2c are
//! in `proxy_transport.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::proxied::*;
use common::tokens::token;
use common::upstream::*;
use common::*;

#[test]
fn allowed_request_reaches_the_upstream_with_identity_and_forwarding_headers() {
    let (up, warden) = start("");
    let target = "/admin/x/y?q=1&r=a%20b";
    let host = ("Host", "app.example:8080");
    let r = warden.send("PATCH", target, &[host, ("Authorization", &admin())]);
    let e = Echo::of(&r);
    assert_eq!((e.str("method"), e.str("target")), ("PATCH", target));
    assert_eq!(e.all("host"), ["app.example:8080"]);
    let want = [
        ("x-auth-subject", "alice"),
        ("x-auth-roles", "admin"),
        ("x-auth-scopes", "orders:write"),
        ("x-auth-method", "jwt"),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-forwarded-proto", "http"),
        ("x-forwarded-host", "app.example:8080"),
    ];
    for (name, value) in want {
        assert_eq!(e.all(name), [value], "{name}: {}", e.0);
    }
    let ids = e.all("x-warden-decision");
    assert!(
        ids.len() == 1 && !ids[0].is_empty(),
        "X-Warden-Decision {ids:?}"
    );
    let logged = format!("\"decision\":\"{}\"", ids[0]);
    poll_until(Duration::from_secs(5), "the decision in the log", || {
        warden.log().contains(&logged).then_some(())
    });
    assert_eq!(up.count(), 1);
}

#[test]
fn client_identity_headers_are_replaced() {
    let (_up, warden) = start("");
    let spoof = [
        ("X-Auth-Subject", "root"),
        ("X-Auth-Roles", "admin"),
        ("X-Auth-Scopes", "orders:write"),
        ("X-Auth-Method", "basic"),
        ("x-auth-subject", "root2"),
        ("X-Warden-Decision", "forged"),
    ];
    let e = Echo::of(&warden.get("/health", &spoof));
    for name in IDENTITY {
        assert_eq!(e.all(name), [""], "anonymous {name}: {}", e.0);
    }
    let token = admin();
    let mut headers = spoof.to_vec();
    headers.push(("Authorization", &token));
    let e = Echo::of(&warden.get("/admin/x", &headers));
    let want = ["alice", "admin", "orders:write", "jwt"];
    for (name, value) in IDENTITY.into_iter().zip(want) {
        assert_eq!(e.all(name), [value], "authenticated {name}: {}", e.0);
    }
    let ids = e.all("x-warden-decision");
    assert!(
        ids.len() == 1 && ids[0] != "forged",
        "X-Warden-Decision {ids:?}"
    );
}

#[test]
fn connection_cannot_remove_the_headers_warden_sets() {
    let (_up, warden) = start("");
    let token = admin();
    let named = "X-Auth-Subject, X-Auth-Roles, X-Forwarded-For, X-Warden-Decision";
    let headers = [("Authorization", token.as_str()), ("Connection", named)];
    let e = Echo::of(&warden.get("/admin/x", &headers));
    assert_eq!(e.all("x-auth-subject"), ["alice"], "{}", e.0);
    assert_eq!(e.all("x-auth-roles"), ["admin"], "{}", e.0);
    assert_eq!(e.all("x-forwarded-for"), ["127.0.0.1"], "{}", e.0);
    assert_eq!(e.all("x-warden-decision").len(), 1, "{}", e.0);
}

#[test]
fn forwarding_headers_are_believed_only_from_trusted_peers() {
    let (_up, trusted) = start("");
    let xff = [
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Proto", "https"),
    ];
    let e = Echo::of(&trusted.get("/health", &xff));
    let chain = e.all("x-forwarded-for").join(", ");
    assert_eq!(chain, "198.51.100.7, 127.0.0.1", "appended: {}", e.0);
    assert_eq!(e.all("x-forwarded-proto"), ["https"]);

    let up = Upstream::start();
    let warden = Env::new(&untrusted(&proxy_config(&up.url(), ""))).serve();
    let spoof = [
        ("Host", "app.example"),
        (
            "Forwarded",
            "for=198.51.100.7;proto=https;host=evil.example",
        ),
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "evil.example"),
    ];
    let e = Echo::of(&warden.get("/health", &spoof));
    e.lacks(&["forwarded"]);
    assert_eq!(e.all("x-forwarded-for"), ["127.0.0.1"], "{}", e.0);
    assert_eq!(e.all("x-forwarded-proto"), ["http"], "{}", e.0);
    assert_eq!(e.all("x-forwarded-host"), ["app.example"], "{}", e.0);
}

#[test]
fn hop_by_hop_headers_are_removed_both_ways() {
    let (_up, warden) = start("");
    let hop = [
        ("Connection", "X-Hop"),
        ("X-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers, deflate"),
        ("Trailer", "X-Checksum"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
        ("Proxy-Connection", "keep-alive"),
        ("X-Keep", "yes"),
    ];
    let e = Echo::of(&warden.get("/open/echo", &hop));
    let gone = [
        "x-hop",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
    ];
    e.lacks(&gone);
    e.lacks(&["proxy-connection", "upgrade", "transfer-encoding"]);
    for c in e.all("connection") {
        let c = c.to_ascii_lowercase();
        assert!(
            !c.contains("x-hop") && !c.contains("close"),
            "Connection: {c}"
        );
    }
    assert_eq!(e.all("x-keep"), ["yes"]);

    let r = warden.get("/open/hop", &[]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "{\"hop\":true}"),
        "{r:#?}"
    );
    assert_eq!(r.all("x-keep"), ["yes"], "{r:#?}");
    assert!(r.header("x-hop").is_none(), "{r:#?}");
    assert!(r.header("keep-alive").is_none(), "{r:#?}");
    for c in r.all("connection") {
        assert!(!c.to_ascii_lowercase().contains("x-hop"), "{r:#?}");
    }
}

/// h2c smuggling: an upstream that switched to HTTP/2 would take every later request on that
/// connection unjudged, so only a WebSocket upgrade is passed on.
#[test]
fn non_websocket_upgrades_are_not_forwarded() {
    let (_up, warden) = start("");
    let h2c = [
        ("Connection", "Upgrade, HTTP2-Settings"),
        ("Upgrade", "h2c"),
        ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
    ];
    let e = Echo::of(&warden.get("/open/echo", &h2c));
    e.lacks(&["upgrade", "http2-settings"]);
    for c in e.all("connection") {
        assert!(
            !c.to_ascii_lowercase().contains("upgrade"),
            "Connection: {c}"
        );
    }
}

#[test]
fn denied_requests_never_reach_the_upstream() {
    let (up, warden) = start("");
    let r = warden.get("/private/x", &[]);
    assert_eq!((r.status, r.challenges()), (401, both()), "{r:#?}");
    assert_eq!(r.header("content-type"), Some(PROBLEM));
    assert_eq!(r.code(), "unauthenticated");
    let viewer = bearer(&token("bob", &["viewer"], "orders:read"));
    let r = warden.get("/admin/x", &[("Authorization", &viewer)]);
    assert_eq!(
        (r.status, r.code()),
        (403, "forbidden".to_owned()),
        "{r:#?}"
    );
    assert!(r.challenges().is_empty(), "{r:#?}");
    let r = warden.send("POST", "/api/orders/1", &[("Authorization", &viewer)]);
    assert_eq!(
        (r.status, r.challenges()),
        (403, vec![BEARER_SCOPE.to_owned()])
    );
    let r = warden.get("/private/x", &[("Accept", BROWSER_ACCEPT)]);
    assert_eq!(r.status, 302, "{r:#?}");
    let location = r.header("location").unwrap_or("");
    assert!(location.starts_with("/.warden/login?rd="), "{r:#?}");
    assert_eq!(warden.get("/nowhere", &[]).status, 403);

    let r = warden.get("/.warden/health", &[]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "ok\nstore (sqlite): up\n")
    );
    let r = warden.get("/.warden/login", &[("Accept", BROWSER_ACCEPT)]);
    assert_eq!((r.status, r.header("content-type")), (200, Some(HTML)));
    assert_eq!(warden.get("/.warden/elsewhere", &[]).status, 404);
    assert_eq!(up.count(), 0, "{:#?}", up.seen());
}

/// The upstream's own denial reached the client as the upstream sent it.
fn assert_upstream_denial(r: &Response, status: u16, challenge: &str, body: &str) {
    assert_eq!(r.status, status, "{r:#?}");
    assert_eq!(r.challenges(), [challenge], "{r:#?}");
    assert_eq!(r.body, body, "{r:#?}");
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:#?}");
    assert!(r.header("location").is_none(), "{r:#?}");
}

#[test]
fn upstream_401_and_403_pass_through_unchanged() {
    let (up, warden) = start("");
    let r = warden.get("/admin/status/401", &[("Authorization", &admin())]);
    assert_upstream_denial(&r, 401, UPSTREAM_CHALLENGE, UPSTREAM_401_BODY);
    let r = warden.get("/open/status/401", &[]);
    assert_upstream_denial(&r, 401, UPSTREAM_CHALLENGE, UPSTREAM_401_BODY);
    // A navigation is not sent to warden's login page for the upstream's own 401.
    let r = warden.get("/open/status/401", &[("Accept", BROWSER_ACCEPT)]);
    assert_upstream_denial(&r, 401, UPSTREAM_CHALLENGE, UPSTREAM_401_BODY);
    let r = warden.get("/open/status/403", &[]);
    assert_upstream_denial(&r, 403, UPSTREAM_SCOPE_CHALLENGE, UPSTREAM_403_BODY);
    assert_eq!(up.count(), 4);
}

#[test]
fn authorization_is_kept_and_the_session_cookie_stripped_by_default() {
    let (_up, warden) = start("");
    let token = admin();
    let e = Echo::of(&warden.get("/admin/x", &[("Authorization", &token)]));
    assert_eq!(e.all("authorization"), [token]);
    let cookie = ("Cookie", "a=1; warden_session=xyz; b=2");
    let e = Echo::of(&warden.get("/health", &[cookie]));
    assert_eq!(e.cookies(), ["a=1", "b=2"], "{}", e.0);
    let e = Echo::of(&warden.get("/health", &[("Cookie", "warden_session=xyz")]));
    assert!(e.cookies().is_empty(), "{}", e.0);
}

#[test]
fn strip_authorization_and_keep_session_cookie_when_configured() {
    let proxy = "[proxy]\nstrip_authorization = true\nstrip_session_cookie = false\n";
    let (_up, warden) = start(proxy);
    let e = Echo::of(&warden.get("/admin/x", &[("Authorization", &admin())]));
    e.lacks(&["authorization"]);
    assert_eq!(e.all("x-auth-subject"), ["alice"]);
    let e = Echo::of(&warden.get("/health", &[("Cookie", "a=1; warden_session=xyz")]));
    assert_eq!(e.cookies(), ["a=1", "warden_session=xyz"], "{}", e.0);
}

#[test]
fn forward_auth_headers_cannot_change_what_is_judged() {
    // 127.0.0.1 is a trusted proxy here; in proxy mode the request judged must be the one
    // forwarded, or `X-Forwarded-Uri: /health` would open `/admin/x`.
    let (up, warden) = start("");
    let lie = [
        ("X-Forwarded-Uri", "/health"),
        ("X-Forwarded-Method", "GET"),
    ];
    let r = warden.get("/admin/x", &lie);
    assert_eq!((r.status, r.challenges()), (401, both()), "{r:#?}");
    assert_eq!(up.count(), 0, "{:#?}", up.seen());
}

#[test]
fn the_path_forwarded_is_the_path_judged() {
    let (up, warden) = start("");
    let r = warden.get("/open/../admin/x", &[]);
    assert_eq!((r.status, r.challenges()), (401, both()), "{r:#?}");
    assert_eq!(up.count(), 0, "{:#?}", up.seen());
    let e = Echo::of(&warden.get("/open//a/./b/%65cho?x=%2F&y=..%2F", &[]));
    assert_eq!(e.str("target"), "/open/a/b/echo?x=%2F&y=..%2F", "{}", e.0);
}
