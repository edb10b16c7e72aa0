//! Operating warden (issue 13): reloading the configuration. A bad file keeps the old one
//! (logged, counted, shown by /health/ready) until a good one applies; listener changes are
//! refused; and with `server.watch` a config rewritten 20 times under load (editor renames,
//! then Kubernetes ConfigMap symlink swaps) never fails a request, never applies a bad file,
//! and never goes back to an older version on a connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::admin::{admin_addr, get as admin_get, log_lines, scrape, sha256_file, signal};
use common::wire::{read_body, read_head};
use common::*;

const RELOADED: &str = "configuration reloaded";
const FAILED: &str = "reload failed; the previous configuration stays in force";
const RELOADS: &str = "warden_config_reloads_total";

/// The standard config with this realm and `watch`, and an admin listener.
fn config(realm: &str, watch: bool) -> String {
    let server = format!("realm = \"{realm}\"\nwatch = {watch}\n");
    let c = replace(&standard_config(), "realm = \"example\"\n", &server);
    format!("{c}[admin]\nlisten = \"127.0.0.1:0\"\n")
}

/// The realm of the first challenge of `GET /private/x` without credentials.
fn realm(addr: SocketAddr) -> String {
    let r = send(addr, "GET", "/private/x", &[]);
    assert_eq!(r.status, 401, "{r:#?}");
    realm_of(r.challenges().first().map_or("", String::as_str))
}

fn realm_of(challenge: &str) -> String {
    let rest = challenge.split_once("realm=\"").map_or("", |(_, r)| r);
    rest.split('"').next().unwrap_or("").to_owned()
}

/// Waits (up to 10 s) for the `n`th log line with this message; its fields.
fn nth_line(warden: &Warden, message: &str, n: usize) -> serde_json::Value {
    poll_until(Duration::from_secs(10), message, || {
        log_lines(warden, message).get(n - 1).cloned()
    })
}

#[test]
fn a_bad_config_keeps_the_old_one_until_a_good_one_applies() {
    let warden = Env::new(&config("example", false)).serve();
    let admin = admin_addr(&warden);
    let first = sha256_file(&warden.config);
    assert_eq!(realm(warden.addr), "example");
    let before = scrape(admin);
    let good = config("bad", false);
    let missing_jwks = data_file("jwks.json").display().to_string();
    let bad = [
        (
            "bogus_key",
            replace(&good, "watch = false\n", "watch = false\nbogus_key = 1\n"),
        ),
        ("line", format!("{good}[[rule]\nname = ")),
        (
            "jwks",
            replace(&good, &missing_jwks, "/nonexistent/jwks.json"),
        ),
        (
            "not-a-network",
            replace(
                &good,
                "deny = [",
                "deny = [\"not-a-network\", \"nor-this\", ",
            ),
        ),
    ];
    for (n, (hint, text)) in bad.iter().enumerate() {
        std::fs::write(&warden.config, text).unwrap();
        signal(warden.pid(), "HUP");
        let line = nth_line(&warden, FAILED, n + 1);
        assert_eq!(line["level"], "ERROR", "{line}");
        let error = line["fields"]["error"].as_str().unwrap_or("");
        assert!(error.contains(hint), "error names {hint}: {line}");
        assert_eq!(realm(warden.addr), "example", "the old config still serves");
        let r = warden.get("/private/x", &[]);
        assert_eq!(r.challenges(), [BEARER, BASIC]);
        let m = scrape(admin);
        let failed = m.value(RELOADS, &[("result", "failure")])
            - before.value(RELOADS, &[("result", "failure")]);
        assert_eq!(failed, (n + 1) as f64, "{hint}");
        assert_eq!(m.value("warden_config_last_reload_successful", &[]), 0.0);
        assert_eq!(m.value("warden_config_info", &[("hash", &first)]), 1.0);
        let r = admin_get(admin, "/health/ready");
        assert_eq!(r.status, 200, "the old config serves: {r:#?}");
        let lines: Vec<&str> = r.body.lines().collect();
        assert_eq!(lines.first(), Some(&"ready"), "{}", r.body);
        assert_eq!(
            lines.len(),
            4,
            "ready, store, config, the reason on one line: {}",
            r.body
        );
        assert!(
            lines.contains(&format!("config: {first}").as_str()),
            "{}",
            r.body
        );
        let failed_line = lines.iter().find(|l| l.starts_with("last reload failed: "));
        let failed_line = failed_line.unwrap_or_else(|| panic!("no failure line: {}", r.body));
        assert!(
            failed_line.len() > "last reload failed: ".len(),
            "{}",
            r.body
        );
    }

    let fixed = config("fixed", false);
    std::fs::write(&warden.config, &fixed).unwrap();
    let second = sha256_file(&warden.config);
    signal(warden.pid(), "HUP");
    let line = nth_line(&warden, RELOADED, 1);
    assert_eq!(line["fields"]["hash"], second.as_str(), "{line}");
    assert_eq!(realm(warden.addr), "fixed");
    let r = admin_get(admin, "/health/ready");
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("last reload failed"), "{}", r.body);
    assert!(
        r.body.lines().any(|l| l == format!("config: {second}")),
        "{}",
        r.body
    );
    let after = scrape(admin);
    let d = |result: &str| {
        after.value(RELOADS, &[("result", result)]) - before.value(RELOADS, &[("result", result)])
    };
    assert_eq!((d("success"), d("failure")), (1.0, 4.0));
    assert_eq!(
        after.value("warden_config_last_reload_successful", &[]),
        1.0
    );
    assert_eq!(after.value("warden_config_info", &[("hash", &second)]), 1.0);
    assert_eq!(after.value("warden_config_info", &[("hash", &first)]), 0.0);
}

#[test]
fn listener_and_watch_changes_need_a_restart() {
    let warden = Env::new(&config("example", false)).serve();
    let admin = admin_addr(&warden);
    let elsewhere = format!("127.0.0.1:{}", closed_port());
    let base = config("changed", false);
    let changes = [
        replace(
            &base,
            "listen = \"127.0.0.1:0\"\nrealm",
            &format!("listen = \"{elsewhere}\"\nrealm"),
        ),
        replace(
            &base,
            "[admin]\nlisten = \"127.0.0.1:0\"",
            &format!("[admin]\nlisten = \"{elsewhere}\""),
        ),
        replace(&base, "watch = false", "watch = true"),
    ];
    for (n, text) in changes.iter().enumerate() {
        std::fs::write(&warden.config, text).unwrap();
        signal(warden.pid(), "HUP");
        let line = nth_line(&warden, FAILED, n + 1);
        let error = line["fields"]["error"]
            .as_str()
            .unwrap_or("")
            .to_lowercase();
        assert!(error.contains("restart"), "change {n}: {line}");
        assert_eq!(realm(warden.addr), "example", "nothing of the file applied");
        let r = admin_get(admin, "/health/ready");
        let failed = r
            .body
            .lines()
            .find(|l| l.starts_with("last reload failed: "));
        assert!(failed.is_some_and(|l| l.contains("restart")), "{}", r.body);
    }
    assert!(log_lines(&warden, RELOADED).is_empty());
    let m = scrape(admin);
    assert_eq!(m.value(RELOADS, &[("result", "failure")]), 3.0);
    assert_eq!(m.value(RELOADS, &[("result", "success")]), 0.0);
}

/// What one keep-alive client saw.
#[derive(Debug, Default)]
struct Seen {
    versions: Vec<u32>,
    problems: Vec<String>,
    reconnects: usize,
}

/// `GET /private/x` on one keep-alive connection until `stop`, every 5 ms.
fn client(addr: SocketAddr, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let connect = || {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        (BufReader::new(s.try_clone().unwrap()), s)
    };
    let (mut reader, mut stream) = connect();
    while !stop.load(Ordering::SeqCst) {
        let sent = stream.write_all(b"GET /private/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
        let head = sent.and_then(|()| read_head(&mut reader));
        let head = match head {
            Ok(Some(h)) => h,
            other => {
                seen.problems.push(format!("request failed: {other:?}"));
                (reader, stream) = connect();
                seen.reconnects += 1;
                continue;
            }
        };
        if let Err(e) = read_body(&mut reader, head.response_framing(), |_| {}) {
            seen.problems.push(format!("body failed: {e}"));
        }
        let realm = realm_of(head.get("www-authenticate").unwrap_or(""));
        match realm.strip_prefix('v').and_then(|v| v.parse().ok()) {
            Some(v) if head.status() == 401 => seen.versions.push(v),
            _ => seen
                .problems
                .push(format!("{}: realm {realm:?}", head.start)),
        }
        if head.lists("connection", "close") {
            (reader, stream) = connect();
            seen.reconnects += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    seen
}

/// An editor's save: a temporary file in the same directory, renamed over the config.
fn save_by_rename(dir: &Path, text: &str, n: usize) {
    let tmp = dir.join(format!(".warden.toml.tmp-{n}"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join("warden.toml")).unwrap();
}

/// A ConfigMap update: `..vN/warden.toml`, `..data -> ..vN` swapped by renaming a new
/// symlink over it; the first time, `warden.toml` becomes a symlink to `..data/warden.toml`.
fn save_by_symlink_swap(dir: &Path, text: &str, n: usize) {
    let version = dir.join(format!("..v{n}"));
    std::fs::create_dir(&version).unwrap();
    std::fs::write(version.join("warden.toml"), text).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..v{n}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    let config = dir.join("warden.toml");
    if !config.is_symlink() {
        let link = dir.join("warden.toml.link");
        std::os::unix::fs::symlink("..data/warden.toml", &link).unwrap();
        std::fs::rename(&link, &config).unwrap();
    }
}

#[test]
fn watched_config_reloads_under_load_without_a_failed_request() {
    let warden = Env::new(&config("v1", true)).serve();
    let admin = admin_addr(&warden);
    let dir = warden.dir.path.clone();
    let before = scrape(admin);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (addr, stop) = (warden.addr, stop.clone());
            std::thread::spawn(move || client(addr, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut version = 1;
    let mut failures = 0;
    for n in 1..=20 {
        let valid = n % 2 == 1;
        let text = if valid {
            version += 1;
            config(&format!("v{version}"), true)
        } else if n % 4 == 0 {
            format!("{}[[rule\nname = ", config(&format!("bad-{n}"), true))
        } else {
            let c = config(&format!("bad-{n}"), true);
            replace(
                &c,
                "watch = true\n",
                &format!("watch = true\nbogus_{n} = 1\n"),
            )
        };
        if n <= 14 {
            save_by_rename(&dir, &text, n);
        } else {
            save_by_symlink_swap(&dir, &text, n);
        }
        if valid {
            let want = format!("v{version}");
            poll_until(Duration::from_secs(5), &format!("{want} in force"), || {
                (realm(warden.addr) == want).then_some(())
            });
        } else {
            failures += 1;
            poll_until(
                Duration::from_secs(5),
                &format!("bad write {n} refused"),
                || (log_lines(&warden, FAILED).len() >= failures).then_some(()),
            );
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let seen: Vec<Seen> = clients.into_iter().map(|c| c.join().unwrap()).collect();

    let total: usize = seen
        .iter()
        .map(|s| s.versions.len() + s.problems.len())
        .sum();
    let versions: usize = seen.iter().map(|s| s.versions.len()).sum();
    eprintln!("{total} requests on 6 keep-alive connections, {versions} answered 401 vN");
    assert!(total >= 1000, "only {total} requests");
    for (i, s) in seen.iter().enumerate() {
        assert!(s.problems.is_empty(), "connection {i}: {:?}", s.problems);
        assert!(
            s.versions.iter().all(|v| (1..=11).contains(v)),
            "connection {i}"
        );
        let back = s.versions.windows(2).find(|w| w[1] < w[0]);
        assert!(back.is_none(), "connection {i} went back: {back:?}");
        assert_eq!(s.versions.last(), Some(&11), "connection {i} ends on v11");
    }
    let reconnects: usize = seen.iter().map(|s| s.reconnects).sum();
    assert_eq!(reconnects, 0, "keep-alive connections were closed");
    assert_eq!(
        realm(warden.addr),
        "v11",
        "the last bad write did not apply"
    );

    let after = scrape(admin);
    let d = |result: &str| {
        after.value(RELOADS, &[("result", result)]) - before.value(RELOADS, &[("result", result)])
    };
    assert_eq!(d("success"), 10.0, "each valid version once");
    assert!(d("failure") >= 10.0, "each bad write refused");
    let in_force = log_lines(&warden, RELOADED).last().cloned().unwrap();
    let hash = in_force["fields"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(
        hash,
        sha256_file(&dir.join("..v19").join("warden.toml")),
        "v11 in force"
    );
    assert_eq!(after.value("warden_config_info", &[("hash", &hash)]), 1.0);
    let ones = after
        .matching("warden_config_info", &[])
        .filter(|s| s.value == 1.0)
        .count();
    assert_eq!(ones, 1, "one config in force");
}

/// With `server.watch`, a rewritten `jwks_file` is reloaded: a key added is trusted within
/// seconds; a broken file is refused and the keys in force stay.
#[test]
fn a_watched_jwks_file_is_reloaded() {
    let all: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data_file("jwks.json")).unwrap()).unwrap();
    let mut only_rs = all.clone();
    only_rs["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["kid"] == "rs-1");
    let env = Env::new("");
    let jwks = env.dir.path.join("keys").join("jwks.json");
    std::fs::create_dir(jwks.parent().unwrap()).unwrap();
    std::fs::write(&jwks, only_rs.to_string()).unwrap();
    let text = replace(
        &config("example", true),
        &data_file("jwks.json").display().to_string(),
        "keys/jwks.json",
    );
    std::fs::write(&env.config, text).unwrap();
    let warden = env.serve();
    let admin = admin_addr(&warden);
    let es = bearer(&common::tokens::token("alice", &[], ""));
    let status = || warden.get("/private/x", &[("Authorization", &es)]).status;
    assert_eq!(status(), 401, "es-1 is not in the file yet");
    let before = scrape(admin);

    let tmp = jwks.with_file_name(".jwks.json.tmp");
    std::fs::write(&tmp, all.to_string()).unwrap();
    std::fs::rename(&tmp, &jwks).unwrap();
    poll_until(Duration::from_secs(5), "the new key", || {
        (status() == 200).then_some(())
    });

    std::fs::write(&tmp, "{\"keys\": [").unwrap();
    std::fs::rename(&tmp, &jwks).unwrap();
    poll_until(Duration::from_secs(5), "the broken file refused", || {
        let m = scrape(admin);
        let failed = m.value(RELOADS, &[("result", "failure")])
            - before.value(RELOADS, &[("result", "failure")]);
        (failed >= 1.0).then_some(())
    });
    assert_eq!(status(), 200, "the keys in force stay");
    let line = nth_line(&warden, FAILED, 1);
    assert_eq!(line["level"], "ERROR", "{line}");
}
