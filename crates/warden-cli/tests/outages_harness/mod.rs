//! The outage harness: probes with valid and revoked credentials, a bounded open-loop load,
//! and the judge that counts wrong answers before, during and after an outage.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::services::*;
use crate::common::*;

pub const JSON: (&str, &str) = ("Accept", "application/json");

/// How soon after the backend is back every answer must be right again.
pub const RECOVERY: Duration = Duration::from_secs(5);

/// How often each probe sends a request (five probes: ~125 requests a second).
pub const PERIOD: Duration = Duration::from_millis(40);

/// A backend a credential check may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dep {
    Store,
    State,
}

/// One kind of request sent over and over.
pub struct Probe {
    pub name: &'static str,
    pub headers: Vec<(&'static str, String)>,
    /// The backends judging it needs (the attempt counters are in Redis).
    pub needs: &'static [Dep],
    /// The subject of a 200, or `None` for a credential that must be refused (401).
    pub subject: Option<&'static str>,
}

impl Probe {
    pub fn up_status(&self) -> u16 {
        if self.subject.is_some() { 200 } else { 401 }
    }

    pub fn send(&self, warden: &Warden) -> Response {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        warden.get("/private/x", &headers)
    }
}

/// The five probes: the keys given, Basic and a session (signed in here) for alice, a JWT;
/// each checked to answer right before any outage.
pub fn probes(warden: &Warden, key: &str, revoked: &str) -> Vec<Probe> {
    let session = browser::session_cookie(&warden.sign_in("alice", "alice-pw"));
    let jwt = bearer(&tokens::token("robot", &[], ""));
    let probe = |name, header, value: String, needs, subject| Probe {
        name,
        headers: vec![("Accept", JSON.1.to_owned()), (header, value)],
        needs,
        subject,
    };
    let probes = vec![
        probe(
            "valid key",
            "Authorization",
            bearer(key),
            &[Dep::Store, Dep::State][..],
            Some("ci"),
        ),
        probe(
            "revoked key",
            "Authorization",
            bearer(revoked),
            &[Dep::Store, Dep::State],
            None,
        ),
        probe(
            "basic",
            "Authorization",
            basic("alice", "alice-pw"),
            &[Dep::Store, Dep::State],
            Some("alice"),
        ),
        probe("session", "Cookie", session, &[Dep::Store], Some("alice")),
        probe("jwt", "Authorization", jwt, &[], Some("robot")),
    ];
    for p in &probes {
        let r = p.send(warden);
        assert_eq!(
            r.status,
            p.up_status(),
            "{} before the outage: {r:#?}",
            p.name
        );
    }
    probes
}

/// A server on `store_url` and `state_body` with alice, a key and a revoked key. The revoked
/// key fails ~25 times a second: the per-address limit is raised so it never blocks the load.
pub fn setup(store_url: &str, state_body: &str) -> (Warden, Vec<Probe>) {
    let config = shared_config(store_url, state_body);
    let env = Env::new(&format!("{config}[limits]\nfailures_per_ip = 1000000\n"));
    env.add_user("alice", "alice-pw", &["ops"]);
    let key = env.create_key("ci", &[]);
    let revoked = env.create_key("old", &[]);
    let id = env.key_id("old");
    env.cli(&["key", "revoke", &id], None).ok();
    let warden = env.serve();
    let probes = probes(&warden, &key, &revoked);
    (warden, probes)
}

/// One answer, timed.
pub struct Sample {
    pub probe: usize,
    pub sent: Instant,
    pub done: Instant,
    pub status: u16,
    pub problems: Vec<String>,
}

/// Checks that hold for every answer, whatever the phase.
pub fn invariants(p: &Probe, r: &Response) -> Vec<String> {
    let mut problems = Vec::new();
    let mut bad = |what: String| problems.push(format!("{}: {what}: {r:?}", p.name));
    match (r.status, p.subject) {
        (200, None) => bad("a revoked credential was allowed".into()),
        (401, Some(_)) => bad("a valid credential got 401".into()),
        (200, Some(subject)) if r.all("x-auth-subject") != [subject] => bad("wrong subject".into()),
        (401, None) if r.challenges() != [BEARER_INVALID, BASIC] => {
            bad("401 without the invalid_token and Basic challenges".into());
        }
        (503, _) => {
            let retry = r.all("retry-after");
            if retry.len() != 1 || retry[0].parse::<u64>().map_or(true, |s| s == 0) {
                bad("503 without a valid Retry-After".into());
            }
            if !r.all("set-cookie").is_empty() {
                bad("503 with Set-Cookie".into());
            }
            if !r.challenges().is_empty() {
                bad("503 with a challenge".into());
            }
            if r.header("content-type") != Some(PROBLEM) || r.code() != "unavailable" {
                bad("503 not a problem document with code `unavailable`".into());
            }
        }
        (200 | 401, _) => {}
        _ => bad("unexpected status".into()),
    }
    problems
}

/// Every probe on a dispatcher thread starting one request per `PERIOD` on a thread of its
/// own, whether earlier ones were answered or not (an open loop, like real clients: a slow
/// answer does not slow the load down), until `stop`.
pub fn load(
    warden: &Arc<Warden>,
    probes: &Arc<Vec<Probe>>,
    stop: &Arc<AtomicBool>,
    samples: &Arc<Mutex<Vec<Sample>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..probes.len())
        .map(|i| {
            let (warden, probes) = (Arc::clone(warden), Arc::clone(probes));
            let (stop, samples) = (Arc::clone(stop), Arc::clone(samples));
            std::thread::spawn(move || {
                let mut requests = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (warden, probes) = (Arc::clone(&warden), Arc::clone(&probes));
                    let samples = Arc::clone(&samples);
                    requests.push(std::thread::spawn(move || {
                        let p = &probes[i];
                        let sent = Instant::now();
                        let r = p.send(&warden);
                        let done = Instant::now();
                        let problems = invariants(p, &r);
                        let status = r.status;
                        let sample = Sample {
                            probe: i,
                            sent,
                            done,
                            status,
                            problems,
                        };
                        samples.lock().unwrap().push(sample);
                    }));
                    requests.retain(|r: &std::thread::JoinHandle<()>| !r.is_finished());
                    std::thread::sleep(PERIOD);
                }
                for request in requests {
                    request.join().unwrap();
                }
            })
        })
        .collect()
}

/// When the backend went down and came back.
pub struct Timeline {
    /// `kill()` called and returned.
    pub killed: (Instant, Instant),
    /// `restart()` called and returned.
    pub restarted: (Instant, Instant),
}

/// What the run of one outage showed.
pub struct Report {
    /// Answers per probe and status to requests sent while the backend was down (after the
    /// grace).
    pub down: BTreeMap<(&'static str, u16), usize>,
    /// Answers per probe and status, in the whole run.
    pub all: BTreeMap<(&'static str, u16), usize>,
    /// Broken invariants and answers wrong for their phase.
    pub wrong: Vec<String>,
    /// From the restart to the first answer of each probe from which on all are right.
    pub recovery: Duration,
    /// Slowest answer to a request sent while the backend was down.
    pub slowest_down: Duration,
}

/// Classifies the answers: before the kill, every answer is the up one; from `grace` after
/// the kill until the restart, 503 for what needs `dep` (during the grace, remembered
/// successes may still be 200); after the restart 503 or up, then up from some point on.
pub fn judge(probes: &[Probe], samples: &[Sample], t: &Timeline, o: &Outage<'_>) -> Report {
    let (dep, grace) = (o.dep, o.grace);
    let mut report = Report {
        down: BTreeMap::new(),
        all: BTreeMap::new(),
        wrong: Vec::new(),
        recovery: Duration::ZERO,
        slowest_down: Duration::ZERO,
    };
    let mut last_wrong_for_up: Vec<Option<Instant>> = vec![None; probes.len()];
    for s in samples {
        let p = &probes[s.probe];
        let needs = p.needs.contains(&dep);
        report.wrong.extend(s.problems.iter().cloned());
        *report.all.entry((p.name, s.status)).or_default() += 1;
        let up = s.status == p.up_status();
        let sent_down = s.sent >= t.killed.1 + grace && s.sent < t.restarted.0;
        if s.done <= t.killed.0 && !up {
            report
                .wrong
                .push(format!("{}: {} before the outage", p.name, s.status));
        }
        if sent_down {
            *report.down.entry((p.name, s.status)).or_default() += 1;
            let want = if needs { 503 } else { p.up_status() };
            // Answered after the restart, the backend may have judged it after all.
            if s.done <= t.restarted.0 && s.status != want {
                report
                    .wrong
                    .push(format!("{}: {} while down, want {want}", p.name, s.status));
            }
        }
        if s.sent >= t.killed.1 && s.sent < t.restarted.0 {
            let took = s.done - s.sent;
            report.slowest_down = report.slowest_down.max(took);
            if took > o.answer_within {
                report.wrong.push(format!(
                    "{}: sent {:?} after the kill, answered {} after {took:?}",
                    p.name,
                    s.sent - t.killed.1,
                    s.status
                ));
            }
        }
        if s.sent >= t.killed.1 && !needs && !up {
            report.wrong.push(format!(
                "{}: {} without needing the backend",
                p.name, s.status
            ));
        }
        if s.sent >= t.restarted.0 && !up {
            last_wrong_for_up[s.probe] = Some(s.done);
        }
    }
    for (i, p) in probes.iter().enumerate() {
        let after: Vec<&Sample> = (samples.iter())
            .filter(|s| s.probe == i && s.done >= t.restarted.0)
            .collect();
        let last_wrong = last_wrong_for_up[i];
        let right: Vec<&&Sample> = (after.iter())
            .filter(|s| last_wrong.is_none_or(|w| s.done > w))
            .collect();
        match right.first() {
            Some(first) if right.len() >= 5 => {
                report.recovery = report.recovery.max(first.done - t.restarted.0);
            }
            _ => report
                .wrong
                .push(format!("{}: not right again before the end", p.name)),
        }
    }
    report
}

/// Health answers over time, checked against the phase.
pub fn health_probe(
    warden: &Arc<Warden>,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(Instant, Instant, Response)>> {
    let (warden, stop) = (Arc::clone(warden), Arc::clone(stop));
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            let r = warden.get("/.warden/health", &[]);
            seen.push((sent, Instant::now(), r));
            std::thread::sleep(Duration::from_millis(200));
        }
        seen
    })
}

pub fn judge_health(
    seen: &[(Instant, Instant, Response)],
    t: &Timeline,
    (up_body, down_body): (&str, &str),
    wrong: &mut Vec<String>,
) -> usize {
    let mut down_answers = 0;
    for (sent, done, r) in seen {
        let is_up = r.status == 200 && r.body == up_body;
        let is_down = r.status == 503
            && r.body == down_body
            && r.all("retry-after").len() == 1
            && r.header("content-type") == Some(TEXT);
        if !(is_up || is_down) {
            wrong.push(format!("health: {r:?}"));
        }
        if *done <= t.killed.0 && !is_up {
            wrong.push(format!("health before the outage: {r:?}"));
        }
        if *sent >= t.killed.1 && *done <= t.restarted.0 {
            down_answers += 1;
            if !is_down {
                wrong.push(format!("health while down: {r:?}"));
            }
        }
    }
    down_answers
}

/// One outage: which backend goes down, for how long, and what health says before and during.
pub struct Outage<'a> {
    pub name: &'static str,
    pub dep: Dep,
    /// After the kill, successes remembered before it may still be reused this long.
    pub grace: Duration,
    pub down_for: Duration,
    /// Every answer within this (the backend's timeout + 1 s), however dead the backend.
    pub answer_within: Duration,
    pub health: (&'a str, &'a str),
}

impl Outage<'_> {
    /// Runs the load, kills the backend for `down_for`, restarts it, and runs on until every
    /// answer has been right for a second (at most `RECOVERY` + 3 s); then judges it all.
    pub fn run(
        &self,
        warden: Warden,
        probes: Vec<Probe>,
        kill: &mut dyn FnMut(),
        restart: &mut dyn FnMut(),
    ) {
        let (warden, probes) = (Arc::new(warden), Arc::new(probes));
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut threads = load(&warden, &probes, &stop, &samples);
        let health = health_probe(&warden, &stop);
        std::thread::sleep(Duration::from_secs(1));
        let kill_at = Instant::now();
        kill();
        let killed = (kill_at, Instant::now());
        std::thread::sleep(self.down_for);
        let restart_at = Instant::now();
        restart();
        let restarted = (restart_at, Instant::now());
        let t = Timeline { killed, restarted };
        self.wait_until_settled(&probes, &samples, &t);
        stop.store(true, Ordering::Relaxed);
        for thread in threads.drain(..) {
            thread.join().unwrap();
        }
        let health = health.join().unwrap();
        let samples = std::mem::take(&mut *samples.lock().unwrap());
        let mut report = judge(&probes, &samples, &t, self);
        let health_down = judge_health(&health, &t, self.health, &mut report.wrong);
        self.print(&report, &samples, &t, health_down);
        assert!(
            report.wrong.is_empty(),
            "{}: {} wrong answers, the first ones:\n{}",
            self.name,
            report.wrong.len(),
            report.wrong[..report.wrong.len().min(12)].join("\n")
        );
        assert!(
            report.recovery <= RECOVERY,
            "{}: recovered after {:?}",
            self.name,
            report.recovery
        );
        assert!(
            health_down > 0,
            "{}: health never asked while down",
            self.name
        );
        for p in probes.iter().filter(|p| p.needs.contains(&self.dep)) {
            assert!(
                report.down.contains_key(&(p.name, 503)),
                "{}: no 503 for {}",
                self.name,
                p.name
            );
        }
        assert!(!warden.log().contains("panicked"), "{}", warden.log());
    }

    /// Waits until every probe has answered right for a second since its last wrong answer.
    pub fn wait_until_settled(&self, probes: &[Probe], samples: &Mutex<Vec<Sample>>, t: &Timeline) {
        let deadline = t.restarted.0 + RECOVERY + Duration::from_secs(3);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            let samples = samples.lock().unwrap();
            let settled = probes.iter().enumerate().all(|(i, p)| {
                let after: Vec<&Sample> = samples
                    .iter()
                    .filter(|s| s.probe == i && s.sent >= t.restarted.1)
                    .collect();
                let last_wrong = after.iter().rev().find(|s| s.status != p.up_status());
                let right_since = last_wrong.map_or(t.restarted.1, |s| s.done);
                !after.is_empty() && right_since.elapsed() >= Duration::from_secs(1)
            });
            if settled {
                return;
            }
        }
    }

    pub fn print(&self, report: &Report, samples: &[Sample], t: &Timeline, health_down: usize) {
        let count = |m: &BTreeMap<(&str, u16), usize>| {
            m.iter()
                .map(|((p, s), n)| format!("{p} {s}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let allowed_revoked = samples
            .iter()
            .filter(|s| s.status == 200 && s.problems.iter().any(|p| p.contains("revoked")))
            .count();
        let valid_401 = samples
            .iter()
            .filter(|s| s.problems.iter().any(|p| p.contains("got 401")))
            .count();
        eprintln!(
            "{}: {} requests; down {:?} (kill took {:?}, restart took {:?}); recovery {:?} after the restart; \
             slowest answer to a request sent while down {:?}; revoked allowed: {allowed_revoked}; valid 401: {valid_401}; \
             wrong: {}; health answers while down: {health_down}",
            self.name,
            samples.len(),
            t.restarted.0 - t.killed.1,
            t.killed.1 - t.killed.0,
            t.restarted.1 - t.restarted.0,
            report.recovery,
            report.slowest_down,
            report.wrong.len(),
        );
        eprintln!("{}: while down: {}", self.name, count(&report.down));
        eprintln!("{}: whole run: {}", self.name, count(&report.all));
    }
}
