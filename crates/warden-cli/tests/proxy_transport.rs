//! Reverse-proxy mode, transport: 502/504 when the upstream fails, HEAD and bodies, 100 MB
//! streamed both ways in bounded memory, WebSocket upgrades and HTTP/2 (h2c) upstreams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufReader, Read as _, Write as _};
use std::time::{Duration, Instant};

use common::h2c::H2Upstream;
use common::proxied::*;
use common::upstream::*;
use common::wire;
use common::*;

/// A 502/504 of warden's own: problem+json, no caching, a decision id, no internals.
fn assert_upstream_failure(r: &Response, status: u16, code: &str, port: u16) {
    assert_eq!(r.status, status, "{r:#?}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{r:#?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
    let id = r.decision();
    assert!(!id.is_empty(), "no X-Warden-Decision: {r:#?}");
    let p = r.json();
    assert_eq!(p["status"].as_u64(), Some(u64::from(status)), "{p}");
    assert_eq!(p["code"].as_str(), Some(code), "{p}");
    for key in ["type", "title", "detail"] {
        assert!(p[key].is_string(), "no {key}: {p}");
    }
    assert!(
        r.body.contains(&id),
        "body does not name decision {id}: {p}"
    );
    let body = stable_body(r);
    let internals = [
        "127.0.0.1",
        &port.to_string(),
        "refused",
        "os error",
        "hyper",
        "tcp connect",
        "error trying",
        "client error",
    ];
    for bad in internals {
        assert!(!body.contains(bad), "body shows {bad:?}: {body}");
    }
    assert!(
        leaks(&body).is_empty(),
        "body leaks {:?}: {body}",
        leaks(&body)
    );
}

#[test]
fn unreachable_upstream_is_502() {
    let port = closed_port();
    let config = proxy_config(&format!("http://127.0.0.1:{port}"), "");
    let warden = Env::new(&config).serve();
    for accept in [&[][..], &[("Accept", "application/json")][..]] {
        let r = warden.get("/health", accept);
        assert_upstream_failure(&r, 502, "upstream_unavailable", port);
    }
}

#[test]
fn upstream_without_response_headers_in_time_is_504() {
    let (up, warden) = start("[proxy]\ntimeout_seconds = 1\n");
    let started = Instant::now();
    let r = warden.get("/open/slow", &[("Accept", "application/json")]);
    let took = started.elapsed();
    assert_upstream_failure(&r, 504, "upstream_timeout", up.addr.port());
    let window = Duration::from_millis(900)..SLOW - Duration::from_secs(1);
    assert!(window.contains(&took), "504 after {took:?}");
    assert_eq!(up.count(), 1);
}

#[test]
fn large_bodies_stream_through_both_ways() {
    let (up, warden) = start("");
    let pid = warden.pid();
    // Warm up: the first requests set up the upstream connection pool.
    let (head, _) = wire::upload(warden.addr, "/open/upload", MIB);
    assert_eq!(head.status(), 200, "{head:#?}");
    wire::download(warden.addr, &format!("/open/download?bytes={MIB}"));
    let before = wire::peak_rss_kib(pid);

    let n = 100 * MIB;
    let (head, body) = wire::upload(warden.addr, "/open/upload", n);
    assert_eq!(head.status(), 200, "{head:#?}");
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc, serde_json::json!({ "bytes": n, "pattern_ok": true }));
    let (head, check) = wire::download(warden.addr, &format!("/open/download?bytes={n}"));
    assert_eq!(head.status(), 200, "{head:#?}");
    assert_eq!((check.seen, check.first_mismatch), (n, None), "{head:#?}");

    let after = wire::peak_rss_kib(pid);
    let grown = after.saturating_sub(before);
    eprintln!("peak RSS {before} KiB → {after} KiB");
    assert!(grown < 32 * 1024, "peak RSS {before} KiB → {after} KiB");
    assert_eq!(up.count(), 4);
}

/// The handshake example of RFC 6455 §1.3.
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const WS_HEADERS: [(&str, &str); 4] = [
    ("Connection", "Upgrade"),
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Key", WS_KEY),
    ("Sec-WebSocket-Version", "13"),
];

#[test]
fn websocket_upgrade_is_tunnelled() {
    assert_eq!(websocket_accept(WS_KEY), WS_ACCEPT, "the test upstream");
    let (up, warden) = start("");
    let mut s = wire::connect(warden.addr);
    let mut req = "GET /open/ws?room=1 HTTP/1.1\r\nHost: localhost\r\n".to_owned();
    for (name, value) in WS_HEADERS {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    s.write_all(format!("{req}\r\n").as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let head = wire::read_head(&mut r).unwrap().expect("no answer");
    assert_eq!(head.status(), 101, "{head:#?}");
    assert_eq!(head.all("sec-websocket-accept"), [WS_ACCEPT], "{head:#?}");
    assert!(head.lists("upgrade", "websocket"), "{head:#?}");
    assert!(head.lists("connection", "upgrade"), "{head:#?}");
    for text in ["hello through warden", "and back again"] {
        let frame = wire::masked_text_frame(text);
        s.write_all(&frame).unwrap();
        let mut back = vec![0; frame.len()];
        r.read_exact(&mut back).unwrap();
        assert_eq!(back, frame, "{text}");
    }
    let seen = up.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].target, "/open/ws?room=1");
}

#[test]
fn denied_websocket_gets_401_and_no_upgrade() {
    let (up, warden) = start("");
    let r = warden.get("/private/ws", &WS_HEADERS);
    assert_eq!((r.status, r.challenges()), (401, both()), "{r:#?}");
    assert!(r.header("upgrade").is_none(), "{r:#?}");
    assert!(r.header("sec-websocket-accept").is_none(), "{r:#?}");
    assert_eq!(up.count(), 0);
}

#[test]
fn http2_prior_knowledge_upstream() {
    let up = H2Upstream::start();
    let config = proxy_config(&up.url(), "[proxy]\nhttp2 = true\n");
    let warden = Env::new(&config).serve();
    let headers = [("Host", "app.example"), ("Authorization", &admin())];
    let r = warden.send_with_body("POST", "/admin/h2?x=1", &headers, b"over h2");
    let e = Echo::of(&r);
    assert_eq!(e.str("version"), "HTTP/2.0");
    assert_eq!(
        (e.str("method"), e.str("target")),
        ("POST", "/admin/h2?x=1")
    );
    assert_eq!(e.str("body"), "over h2");
    // RFC 9113 §8.3.1: an intermediary builds `:authority` from the original request's
    // authority (its Host); a Host field, if sent too, must name the same.
    let authority = e.0["authority"].as_str();
    assert_eq!(authority, Some("app.example"), ":authority: {}", e.0);
    for host in e.all("host") {
        assert_eq!(host, "app.example", "Host differs from :authority: {}", e.0);
    }
    assert_eq!(e.all("x-auth-subject"), ["alice"]);
    assert_eq!(e.all("x-forwarded-host"), ["app.example"]);
    assert_eq!(up.count(), 1);
}

#[test]
fn head_and_post_with_a_body_are_forwarded() {
    let (up, warden) = start("");
    let r = warden.send("HEAD", "/open/download?bytes=12345", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("content-length"), Some("12345"), "{r:#?}");
    assert!(r.body.is_empty(), "{r:#?}");
    let last = up.seen().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("HEAD", "/open/download?bytes=12345")
    );

    let body = b"hello, upstream";
    let text = ("Content-Type", "text/plain");
    let e = Echo::of(&warden.send_with_body("POST", "/open/echo?p=1", &[text], body));
    assert_eq!(
        (e.str("method"), e.str("target")),
        ("POST", "/open/echo?p=1")
    );
    assert_eq!(e.str("body"), "hello, upstream");
    assert_eq!(e.all("content-length"), ["15"]);
    assert_eq!(e.all("content-type"), ["text/plain"]);

    let writer = [("Authorization", admin())];
    let e = Echo::of(&warden.send_with_body(
        "PUT",
        "/api/orders/7",
        &[(writer[0].0, &writer[0].1)],
        b"{}",
    ));
    assert_eq!((e.str("method"), e.str("body")), ("PUT", "{}"));
    assert_eq!(up.count(), 3);
}
