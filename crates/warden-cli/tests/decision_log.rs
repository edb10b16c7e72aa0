//! The decision log: one line per decision, with the decision id the client saw, every line
//! written out by the time the server exits, and no field forgeable by a client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{Env, http, spawn_serve, standard_config};

/// JSON lines (`--log-json`): the decision's fields, typed.
#[test]
fn json_lines_carry_the_decision_fields() {
    let mut warden = Env::new(&standard_config()).serve();
    let r = warden.get("/private/x", &[]);
    assert_eq!(r.status, 401);
    let id = r.header("x-warden-decision").unwrap().to_owned();
    assert!(warden.terminate().success());
    let log = warden.log();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["decision"] == id.as_str())
        .unwrap_or_else(|| panic!("no log line for decision {id}:\n{log}"));
    let f = &line["fields"];
    assert_eq!(line["level"], "INFO");
    assert_eq!(f["message"], "decision");
    assert_eq!(f["status"], 401);
    assert_eq!(f["rule"], "private");
    assert_eq!(f["verdict"], "unauthenticated");
    assert_eq!(f["subject"], "-");
    assert_eq!(f["client"], "127.0.0.1");
    assert_eq!(f["method"], "GET");
    assert_eq!(f["path"], "/private/x");
}

/// Text lines: plain values bare, a client-chosen path with a space and a quote quoted and
/// escaped (it cannot add a field), and every line out after SIGTERM.
#[test]
fn text_lines_are_flushed_at_exit_and_cannot_be_forged() {
    let env = Env::new(&standard_config());
    let mut child = spawn_serve(&env.config, false);
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    let addr = listen_address(&rx);
    let plain = http::send(addr, "GET", "/private/x", &[]);
    let forged = http::send(
        addr,
        "GET",
        "/",
        &[
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/private/a b\"c status=200"),
        ],
    );
    assert_eq!((plain.status, forged.status), (401, 401));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(child.wait().unwrap().success());
    let lines = reader.join().unwrap();
    let line_of = |r: &http::Response| {
        let id = r.header("x-warden-decision").unwrap();
        let found: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains(&format!(" decision={id} ")))
            .collect();
        assert_eq!(found.len(), 1, "one line for {id}:\n{}", lines.join("\n"));
        found[0].clone()
    };
    let first = line_of(&plain);
    assert!(first.contains(" INFO "), "{first}");
    assert!(
        first.ends_with(
            "status=401 rule=private verdict=unauthenticated subject=- \
             client=127.0.0.1 method=GET path=/private/x"
        ),
        "{first}"
    );
    let second = line_of(&forged);
    assert!(
        second.ends_with(r#"method=GET path="/private/a b\"c status=200""#),
        "{second}"
    );
    // The only bare `status=` is warden's own; the client's is inside the quoted path.
    let (fields, _) = second.split_once(" path=").unwrap();
    assert_eq!(fields.matches(" status=").count(), 1, "{second}");
    assert!(fields.contains(" status=401 "), "{second}");
}

fn listen_address(rx: &mpsc::Receiver<String>) -> SocketAddr {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("warden did not report listening");
        if line.contains("warden is listening") {
            let at = line.split("listen=").nth(1).unwrap();
            return at.split_whitespace().next().unwrap().parse().unwrap();
        }
    }
}
