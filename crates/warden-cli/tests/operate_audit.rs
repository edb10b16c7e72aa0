//! Operating warden (issue 13): the audit log. One typed JSON line per decision, its
//! `decision` the id the client saw; denials always written, allows sampled; reopened on
//! SIGHUP (logrotate); no credential ever written; `stdout = true` writes to stdout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::admin::{logged, signal};
use common::browser::session_cookie;
use common::tokens::token;
use common::*;
use serde_json::Value;

const KEYS: [&str; 13] = [
    "time",
    "decision",
    "request_id",
    "rule",
    "outcome",
    "status",
    "reason",
    "subject",
    "authenticator",
    "client",
    "method",
    "path",
    "latency_us",
];

/// The standard config writing its audit to `audit.jsonl`, plus `extra` in `[audit]`.
fn audit_config(extra: &str) -> String {
    format!(
        "{}[audit]\nfile = \"audit.jsonl\"\n{extra}",
        standard_config()
    )
}

/// Every line of an audit file, each checked to be a JSON object.
fn read_audit(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {l:?}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect()
}

/// Every field present and typed as the spec says.
fn check_types(v: &Value) {
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, KEYS.into_iter().collect(), "audit keys: {v}");
    let time = v["time"].as_str().unwrap_or_else(|| panic!("time: {v}"));
    assert!(is_rfc3339_utc(time), "time {time:?}");
    assert!(v["decision"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    for nullable in ["request_id", "rule", "subject", "authenticator"] {
        let f = &v[nullable];
        assert!(f.is_null() || f.is_string(), "{nullable}: {v}");
    }
    for text in ["outcome", "reason", "client", "method", "path"] {
        assert!(v[text].is_string(), "{text}: {v}");
    }
    assert!(v["status"].is_u64(), "status: {v}");
    assert!(v["latency_us"].is_u64(), "latency_us: {v}");
    let outcome = v["outcome"].as_str().unwrap();
    if outcome != "allow" && outcome != "preflight" {
        assert_eq!(outcome, v["status"].to_string(), "{v}");
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
fn is_rfc3339_utc(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    let base = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = &t[19.min(t.len())..];
    let fraction_ok = match rest.strip_suffix('Z') {
        Some("") => true,
        Some(f) => f.len() >= 2 && f.starts_with('.') && f[1..].bytes().all(|c| c.is_ascii_digit()),
        None => false,
    };
    base && fraction_ok
}

/// The audit lines by decision id, each id exactly once.
fn by_decision(lines: &[Value]) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for v in lines {
        let id = v["decision"].as_str().unwrap().to_owned();
        assert!(map.insert(id.clone(), v.clone()).is_none(), "{id} twice");
    }
    map
}

/// Requests and the audit line each must give: method, target, credential (`-` none) |
/// rule, outcome, status, reason, authenticator, subject (`-` for null), normalized path.
const CASES: &[&str] = &[
    "GET /private/x - | private 401 401 unauthenticated - - /private/x",
    "GET /private//a/./b/../c?q=1 - | private 401 401 unauthenticated - - /private/a/c",
    "HEAD /private/x - | private 401 401 unauthenticated - - /private/x",
    "GET /private/x alice | private allow 200 allow jwt alice /private/x",
    "GET /admin/x dave | admin 403 403 missing_role jwt dave /admin/x",
    "POST /api/orders/1 dave | orders-write 403 403 missing_scope jwt dave /api/orders/1",
    "GET /nowhere - | - 403 403 no_rule - - /nowhere",
    "GET /private/x wrong | private 401 401 bad_password basic - /private/x",
    "GET /private/x right | private allow 200 allow basic alice /private/x",
    "GET /health - | health allow 200 allow - - /health",
];

#[test]
fn one_typed_line_per_decision() {
    let env = Env::new(&audit_config(""));
    env.add_user("alice", "alice-pw", &[]);
    let mut warden = env.serve();
    let credential = |name: &str| match name {
        "alice" => bearer(&token("alice", &[], "")),
        "dave" => bearer(&token("dave", &["viewer"], "")),
        "wrong" => basic("alice", "wrong"),
        "right" => basic("alice", "alice-pw"),
        _ => String::new(),
    };
    let mut sent = Vec::new();
    for case in CASES {
        let (request, want) = case.split_once(" | ").unwrap();
        let [method, target, cred] = request.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{case}")
        };
        let auth = credential(cred);
        let headers: Vec<(&str, &str)> = if auth.is_empty() {
            vec![]
        } else {
            vec![("Authorization", auth.as_str())]
        };
        let r = warden.send_with_body(method, target, &headers, b"");
        let want: Vec<&str> = want.split(' ').collect();
        assert_eq!(r.status.to_string(), want[2], "{case}: {r:#?}");
        sent.push((r.decision(), method, want));
    }
    // Not decisions.
    assert_eq!(warden.get("/.warden/health", &[]).status, 200);
    assert_eq!(warden.get("/.warden/login", &[]).status, 200);
    assert!(warden.terminate().success());

    let lines = read_audit(&warden.config.with_file_name("audit.jsonl"));
    assert_eq!(
        lines.len(),
        CASES.len(),
        "one line per decision: {lines:#?}"
    );
    let map = by_decision(&lines);
    let null = |s: &str| {
        if s == "-" {
            Value::Null
        } else {
            Value::from(s)
        }
    };
    for (id, method, want) in sent {
        let v = map
            .get(&id)
            .unwrap_or_else(|| panic!("no audit line for {id}"));
        check_types(v);
        let what = format!("{want:?}: {v}");
        assert_eq!(v["rule"], null(want[0]), "{what}");
        assert_eq!(v["outcome"], want[1], "{what}");
        assert_eq!(v["status"].to_string(), want[2], "{what}");
        assert_eq!(v["reason"], want[3], "{what}");
        assert_eq!(v["authenticator"], null(want[4]), "{what}");
        assert_eq!(v["subject"], null(want[5]), "{what}");
        assert_eq!(v["path"], want[6], "{what}");
        assert_eq!(v["method"], method, "{what}");
        assert_eq!(v["request_id"], Value::Null, "{what}");
        assert_eq!(v["client"], "127.0.0.1", "{what}");
        // The decision log tells the same story.
        let log = logged(&warden, &id);
        assert_eq!(log["status"], v["status"], "{what}");
        assert_eq!(log["rule"], want[0], "{what}");
        assert_eq!(log["verdict"], v["reason"], "{what}");
        assert_eq!(log["subject"], want[5], "{what}");
    }
}

/// Sends `allows` allowed and `denials` denied requests; their decision ids.
fn mix(warden: &Warden, allows: usize, denials: usize) -> (BTreeSet<String>, BTreeSet<String>) {
    let t = bearer(&token("alice", &[], ""));
    let allowed = (0..allows)
        .map(|_| {
            let r = warden.get("/private/x", &[("Authorization", &t)]);
            assert_eq!(r.status, 200, "{r:#?}");
            r.decision()
        })
        .collect();
    let denied = (0..denials)
        .map(|i| {
            let r = if i % 2 == 0 {
                warden.get("/private/x", &[])
            } else {
                warden.get("/admin/x", &[("Authorization", &t)])
            };
            assert!(matches!(r.status, 401 | 403), "{r:#?}");
            r.decision()
        })
        .collect();
    (allowed, denied)
}

#[test]
fn denials_are_always_written_allows_are_sampled() {
    let mut warden = Env::new(&audit_config("sample_allows = 0.0\n")).serve();
    let (_, denied) = mix(&warden, 10, 10);
    assert!(warden.terminate().success());
    let lines = read_audit(&warden.config.with_file_name("audit.jsonl"));
    let ids: BTreeSet<String> = by_decision(&lines).into_keys().collect();
    assert_eq!(ids, denied, "sample_allows = 0.0: every denial, no allow");

    let mut warden = Env::new(&audit_config("sample_allows = 0.5\n")).serve();
    let (allowed, denied) = mix(&warden, 400, 20);
    assert!(warden.terminate().success());
    let lines = read_audit(&warden.config.with_file_name("audit.jsonl"));
    let ids: BTreeSet<String> = by_decision(&lines).into_keys().collect();
    assert!(denied.is_subset(&ids), "every denial is written");
    let written = ids.intersection(&allowed).count();
    assert_eq!(written + denied.len(), ids.len(), "only sent decisions");
    // Binomial(400, 0.5): mean 200, sd 10; 120..=280 is 8 sd.
    assert!(
        (120..=280).contains(&written),
        "{written} of 400 allows written"
    );
}

#[test]
fn sighup_reopens_the_file() {
    let mut warden = Env::new(&audit_config("")).serve();
    let path = warden.config.with_file_name("audit.jsonl");
    let rotated = warden.config.with_file_name("audit.jsonl.1");
    let before: BTreeSet<String> = (0..3)
        .map(|_| warden.get("/private/x", &[]).decision())
        .collect();
    std::fs::rename(&path, &rotated).unwrap();
    signal(warden.pid(), "HUP");
    // Until the new file appears, a request may land in either file.
    let mut either = BTreeSet::new();
    poll_until(Duration::from_secs(5), "a new audit file", || {
        if path.exists() {
            return Some(());
        }
        either.insert(warden.get("/nowhere", &[]).decision());
        std::thread::sleep(Duration::from_millis(100));
        None
    });
    let after: BTreeSet<String> = (0..3)
        .map(|_| warden.get("/private/x", &[]).decision())
        .collect();
    assert!(warden.terminate().success());
    let old: BTreeSet<String> = by_decision(&read_audit(&rotated)).into_keys().collect();
    let new: BTreeSet<String> = by_decision(&read_audit(&path)).into_keys().collect();
    assert!(
        before.is_subset(&old),
        "earlier lines stay in the rotated file"
    );
    assert!(after.is_subset(&new), "later lines go to the new file");
    assert!(old.is_disjoint(&new), "no line in both files");
    let all: BTreeSet<String> = before
        .iter()
        .chain(&either)
        .chain(&after)
        .cloned()
        .collect();
    let union: BTreeSet<String> = old.union(&new).cloned().collect();
    assert_eq!(union, all, "every decision once, nothing else");
}

/// A target, its headers and the status it must get.
type Sent = (String, Vec<(&'static str, String)>, u16);

#[test]
fn no_credential_is_ever_written() {
    let env = Env::new(&audit_config(""));
    let (password, wrong) = ("Alice-Pw-93c1e", "Wrong-Pw-5d2a8");
    env.add_user("alice", password, &[]);
    let key = env.create_key("ci", &[]);
    let mut warden = env.serve();
    let session = warden.sign_in("alice", password);
    let jwt = token("alice", &["viewer"], "");
    let unknown_key = "wdn_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    let b = |s: &str| bearer(s);
    let requests: Vec<Sent> = vec![
        ("/private/x".into(), vec![("Authorization", b(&jwt))], 200),
        ("/admin/x".into(), vec![("Authorization", b(&jwt))], 403),
        (
            "/private/x".into(),
            vec![("Authorization", basic("alice", password))],
            200,
        ),
        (
            "/private/x".into(),
            vec![("Authorization", basic("alice", wrong))],
            401,
        ),
        ("/private/x".into(), vec![("X-API-Key", key.clone())], 200),
        ("/private/x".into(), vec![("Authorization", b(&key))], 200),
        (
            "/private/x".into(),
            vec![("Authorization", b(unknown_key))],
            401,
        ),
        (
            "/private/x".into(),
            vec![("Cookie", session_cookie(&session))],
            200,
        ),
        (format!("/private/x?access_token={jwt}"), vec![], 401),
    ];
    for (target, headers, status) in &requests {
        let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = warden.get(target, &h);
        assert_eq!(r.status, *status, "{target} {headers:?}: {r:#?}");
    }
    assert!(warden.terminate().success());
    let file = warden.config.with_file_name("audit.jsonl");
    let lines = read_audit(&file);
    assert_eq!(lines.len(), requests.len(), "one line each: {lines:#?}");
    lines.iter().for_each(check_types);
    let text = std::fs::read_to_string(&file).unwrap();
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    let signature = jwt.rsplit('.').next().unwrap().to_owned();
    let secrets = [
        jwt.clone(),
        signature,
        password.to_owned(),
        wrong.to_owned(),
        b64(format!("alice:{password}")),
        b64(format!("alice:{wrong}")),
        key.clone(),
        key.trim_start_matches("wdn_").to_owned(),
        unknown_key.to_owned(),
        session.clone(),
        session.trim_start_matches("wds_").to_owned(),
    ];
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the audit file holds {secret:?}:\n{text}"
        );
    }
}

#[test]
fn stdout_true_writes_to_stdout_not_stderr() {
    let config = format!("{}[audit]\nstdout = true\n", standard_config());
    let env = Env::new(&config);
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("--config")
        .arg(&env.config)
        .args(["--log-json", "serve"])
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let mut warden = Warden::from_child(env, child);
    let sent: BTreeSet<String> = ["/private/x", "/nowhere", "/health"]
        .iter()
        .map(|p| warden.get(p, &[]).decision())
        .collect();
    assert!(warden.terminate().success());
    let out = reader.join().unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line ({e}): {l:?}")))
        .collect();
    lines.iter().for_each(check_types);
    let ids: BTreeSet<String> = by_decision(&lines).into_keys().collect();
    assert_eq!(ids, sent, "stdout holds exactly the audit lines:\n{out}");
    let log = warden.log();
    let leaked = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("latency_us").is_some() || v["fields"].get("latency_us").is_some())
        .count();
    assert_eq!(leaked, 0, "no audit line on stderr:\n{log}");
    assert!(!warden.config.with_file_name("audit.jsonl").exists());
}
