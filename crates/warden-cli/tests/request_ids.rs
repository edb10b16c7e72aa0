//! Request ids (issue 13): `X-Request-Id` (or a W3C `traceparent`'s trace id) from a trusted
//! proxy reaches the decision log, problem+json bodies and the audit line; from other peers,
//! or malformed, it is ignored; in proxy mode the upstream always gets one `X-Request-Id`
//! (the trusted id, else the decision id) and `traceparent` only from a trusted peer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::admin::logged;
use common::proxied::{Echo, proxy_config, start, untrusted};
use common::upstream::Upstream;
use common::*;
use serde_json::Value;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn audited(config: &str) -> String {
    format!("{config}[audit]\nfile = \"audit.jsonl\"\n")
}

/// 128 visible ASCII characters without space, `"` or `\`.
fn longest_id() -> String {
    let chars: Vec<char> = ('!'..='~').filter(|c| !matches!(c, '"' | '\\')).collect();
    (0..128).map(|i| chars[i % chars.len()]).collect()
}

/// X-Request-Id values that must be ignored.
fn bad_ids() -> Vec<String> {
    vec![
        "a b".into(),
        "a\"b".into(),
        "a\\b".into(),
        "x".repeat(129),
        String::new(),
        "id\u{e9}".into(),
    ]
}

/// traceparent values that must be ignored.
const BAD_TRACEPARENTS: &[&str] = &[
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
];

/// Extra request headers, and the id they must give.
type Case = (Vec<(&'static str, String)>, Option<String>);

/// Requests (extra headers) and the id each must carry.
fn cases() -> Vec<Case> {
    let id = |s: &str| ("X-Request-Id", s.to_owned());
    let tp = |s: &str| ("traceparent", s.to_owned());
    let mut cases = vec![
        (
            vec![id("req-7f3a.b_c~1")],
            Some("req-7f3a.b_c~1".to_owned()),
        ),
        (vec![tp(TRACEPARENT)], Some(TRACE.to_owned())),
        (vec![id("wins"), tp(TRACEPARENT)], Some("wins".to_owned())),
        (
            vec![tp(TRACEPARENT), id("wins-too")],
            Some("wins-too".to_owned()),
        ),
        (vec![id(&longest_id())], Some(longest_id())),
        (vec![], None),
    ];
    for bad in bad_ids() {
        cases.push((vec![id(&bad)], None));
        cases.push((vec![id(&bad), tp(TRACEPARENT)], Some(TRACE.to_owned())));
    }
    for bad in BAD_TRACEPARENTS {
        cases.push((vec![tp(bad)], None));
        cases.push((vec![tp(bad), id("kept")], Some("kept".to_owned())));
    }
    cases
}

/// The audit lines by decision id.
fn audit(warden: &Warden) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(warden.config.with_file_name("audit.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["decision"].as_str().unwrap().to_owned(), v))
        .collect()
}

/// Sends each case to `/private/x` (401, problem+json) and checks the body and the decision
/// log; after exit, the audit lines. `trusted` false: every id is ignored.
fn check(mut warden: Warden, trusted: bool) {
    let mut sent = Vec::new();
    for (headers, want) in cases() {
        let want = if trusted { want } else { None };
        let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = warden.get("/private/x", &h);
        assert_eq!(r.status, 401, "{headers:?}: {r:#?}");
        assert_eq!(r.header("content-type"), Some(PROBLEM));
        let body = r.json();
        assert_eq!(
            body.get("request_id").and_then(Value::as_str),
            want.as_deref(),
            "problem+json for {headers:?}: {body}"
        );
        if want.is_none() {
            assert!(body.get("request_id").is_none(), "absent, not null: {body}");
        }
        let log = logged(&warden, &r.decision());
        // The decision log writes a value outside its bare set quoted and escaped (`Debug`),
        // as it does for paths, so a client-chosen value cannot forge a text field.
        let logged_id = log["request_id"].as_str().unwrap_or_default();
        let plain = want.as_deref().unwrap_or("-");
        let quoted = format!("{plain:?}");
        assert!(
            logged_id == plain || logged_id == quoted,
            "log for {headers:?}: {logged_id:?}"
        );
        sent.push((r.decision(), headers, want));
    }
    assert!(warden.terminate().success());
    let lines = audit(&warden);
    for (id, headers, want) in sent {
        let line = lines
            .get(&id)
            .unwrap_or_else(|| panic!("no audit line for {id}"));
        let got = &line["request_id"];
        match &want {
            Some(w) => assert_eq!(got.as_str(), Some(w.as_str()), "audit for {headers:?}"),
            None => assert!(got.is_null(), "audit for {headers:?}: {line}"),
        }
    }
}

#[test]
fn ids_from_a_trusted_proxy_reach_the_log_the_body_and_the_audit() {
    check(Env::new(&audited(&standard_config())).serve(), true);
}

#[test]
fn ids_from_other_peers_are_ignored() {
    check(
        Env::new(&audited(&untrusted(&standard_config()))).serve(),
        false,
    );
}

/// The X-Request-Id and traceparent values the upstream received, and its decision id.
fn upstream_ids(warden: &Warden, headers: &[(&str, &str)]) -> (Vec<String>, Vec<String>, String) {
    let e = Echo::of(&warden.get("/open/x", headers));
    let decision = e.all("x-warden-decision");
    assert_eq!(decision.len(), 1, "{}", e.0);
    (
        e.all("x-request-id"),
        e.all("traceparent"),
        decision[0].clone(),
    )
}

#[test]
fn the_upstream_gets_one_request_id_and_a_trusted_traceparent() {
    let (_up, warden) = start("");
    let both = [
        ("X-Request-Id", "client-id-1"),
        ("traceparent", TRACEPARENT),
    ];
    let (ids, tps, _) = upstream_ids(&warden, &both);
    assert_eq!(ids, ["client-id-1"]);
    assert_eq!(tps, [TRACEPARENT]);

    let (ids, tps, _) = upstream_ids(&warden, &[("traceparent", TRACEPARENT)]);
    assert_eq!(ids, [TRACE], "the trace id is the request id");
    assert_eq!(tps, [TRACEPARENT]);

    let (ids, tps, decision) = upstream_ids(&warden, &[]);
    assert_eq!(ids, [decision.as_str()], "none given: the decision id");
    assert!(tps.is_empty(), "{tps:?}");

    let bad = [("X-Request-Id", "a b")];
    let (ids, tps, decision) = upstream_ids(&warden, &bad);
    assert_eq!(ids, [decision.as_str()], "an invalid id is replaced");
    assert!(tps.is_empty(), "{tps:?}");

    let bad_tp = [("traceparent", BAD_TRACEPARENTS[0])];
    let (ids, _, decision) = upstream_ids(&warden, &bad_tp);
    assert_eq!(
        ids,
        [decision.as_str()],
        "an invalid traceparent gives no id"
    );

    // From an untrusted peer, the client's copies are replaced or dropped.
    let up = Upstream::start();
    let warden = Env::new(&untrusted(&proxy_config(&up.url(), ""))).serve();
    let (ids, tps, decision) = upstream_ids(&warden, &both);
    assert_eq!(
        ids,
        [decision.as_str()],
        "an untrusted client's id is replaced"
    );
    assert!(
        tps.is_empty(),
        "an untrusted traceparent is dropped: {tps:?}"
    );
    let (ids, tps, decision) = upstream_ids(&warden, &[]);
    assert_eq!(ids, [decision.as_str()]);
    assert!(tps.is_empty());
}

/// A denial in proxy mode carries the trusted id in its problem+json too.
#[test]
fn proxy_denials_carry_the_request_id() {
    let (up, warden) = start("");
    let r = warden.get("/private/x", &[("X-Request-Id", "deny-me-1")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.json()["request_id"], "deny-me-1");
    assert_eq!(logged(&warden, &r.decision())["request_id"], "deny-me-1");
    assert_eq!(up.count(), 0, "a denial never reaches the upstream");
}
