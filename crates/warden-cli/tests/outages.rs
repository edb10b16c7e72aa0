//! Outages of the shared backends, each on private servers of its own: Redis or PostgreSQL
//! killed under steady load and restarted, a hung Redis, warden started while a backend is
//! down. Credentials a dead backend must judge get 503 + `Retry-After` (never 401, never an
//! allow, never a `Set-Cookie`); JWTs keep working; health names what is down; everything
//! comes back by itself within 5 s of the backend. The figures are printed (`--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::services::*;
use common::*;

mod outages_harness;

use outages_harness::*;

#[test]
fn redis_killed_under_load_gives_503_then_recovers() {
    let schema = pg_schema();
    let mut redis = PrivateRedis::start();
    let state = redis_state(&redis.url(), &redis_prefix());
    let (warden, probes) = setup(&schema.url, &state);
    let redis = Mutex::new(&mut redis);
    Outage {
        name: "redis killed",
        dep: Dep::State,
        // A success remembered in the last 500 ms is answered without asking Redis.
        grace: Duration::from_millis(600),
        down_for: Duration::from_secs(3),
        // `[state] timeout_ms` defaults to 1000.
        answer_within: Duration::from_secs(2),
        health: (
            "ok\nstore (postgresql): up\nstate (redis): up\n",
            "unavailable\nstore (postgresql): up\nstate (redis): down\n",
        ),
    }
    .run(
        warden,
        probes,
        &mut || redis.lock().unwrap().kill(),
        &mut || redis.lock().unwrap().restart(),
    );
}

#[test]
fn postgres_killed_under_load_gives_503_then_recovers() {
    let mut pg = PrivatePostgres::start();
    let state = redis_state(MACHINE_REDIS, &redis_prefix());
    let (warden, probes) = setup(&pg.url(), &state);
    let pg = Mutex::new(&mut pg);
    Outage {
        name: "postgresql killed",
        dep: Dep::Store,
        // Successes checked within the last half second may be reused.
        grace: Duration::from_millis(600),
        // Each check waits for the store's timeout: long enough for several of them.
        down_for: Duration::from_secs(6),
        // `[store] timeout_ms` defaults to 2000.
        answer_within: Duration::from_secs(3),
        health: (
            "ok\nstore (postgresql): up\nstate (redis): up\n",
            "unavailable\nstore (postgresql): down\nstate (redis): up\n",
        ),
    }
    .run(
        warden,
        probes,
        &mut || pg.lock().unwrap().kill(),
        &mut || pg.lock().unwrap().restart(),
    );
}

/// Sends one request and times it.
fn timed(warden: &Warden, target: &str, headers: &[(&str, &str)]) -> (Response, Duration) {
    let start = Instant::now();
    let r = warden.get(target, headers);
    (r, start.elapsed())
}

#[test]
fn a_hung_redis_gives_503_within_the_timeout_not_a_hang() {
    let schema = pg_schema();
    let redis = PrivateRedis::start();
    let timeout = Duration::from_millis(1000);
    let state = format!(
        "{}timeout_ms = {}\n",
        redis_state(&redis.url(), &redis_prefix()),
        timeout.as_millis()
    );
    let (warden, probes) = setup(&schema.url, &state);
    let bound = timeout + Duration::from_secs(1);
    redis.pause();
    // Successes remembered from `setup` are answered without Redis for 500 ms: let them go.
    std::thread::sleep(Duration::from_millis(600));
    let mut figures = Vec::new();
    for round in 0..2 {
        for p in &probes {
            let start = Instant::now();
            let r = p.send(&warden);
            let took = start.elapsed();
            figures.push(format!("{} {} in {took:?}", p.name, r.status));
            assert!(invariants(p, &r).is_empty(), "{:?}", invariants(p, &r));
            let want = if p.needs.contains(&Dep::State) {
                503
            } else {
                p.up_status()
            };
            assert_eq!(
                r.status, want,
                "round {round}, {} with Redis hung: {r:#?}",
                p.name
            );
            assert!(
                took <= bound,
                "round {round}, {}: answered after {took:?}",
                p.name
            );
        }
    }
    // Several at once do not queue behind each other past the bound.
    let warden = Arc::new(warden);
    let parallel: Vec<_> = (0..4)
        .map(|_| {
            let warden = Arc::clone(&warden);
            let auth = probes[0].headers[1].1.clone();
            std::thread::spawn(move || {
                timed(&warden, "/private/x", &[JSON, ("Authorization", &auth)])
            })
        })
        .collect();
    for thread in parallel {
        let (r, took) = thread.join().unwrap();
        figures.push(format!("parallel key {} in {took:?}", r.status));
        assert_eq!(r.status, 503, "{r:#?}");
        assert!(took <= bound, "a parallel request answered after {took:?}");
    }
    let (r, took) = timed(&warden, "/.warden/health", &[]);
    figures.push(format!("health {} in {took:?}", r.status));
    assert_eq!(r.status, 503, "{r:#?}");
    assert_eq!(
        r.body,
        "unavailable\nstore (postgresql): up\nstate (redis): down\n"
    );
    assert_eq!(r.all("retry-after").len(), 1, "{r:#?}");
    assert!(took <= bound, "health answered after {took:?}");

    let resumed = Instant::now();
    redis.resume();
    let back = poll_until(RECOVERY, "200s after SIGCONT", || {
        probes
            .iter()
            .all(|p| p.send(&warden).status == p.up_status())
            .then(|| resumed.elapsed())
    });
    eprintln!(
        "hung redis (timeout {timeout:?}): {}; all right again {back:?} after SIGCONT",
        figures.join(", ")
    );
}

#[test]
fn warden_started_while_postgres_is_down_answers_once_it_is_up() {
    let mut pg = PrivatePostgres::start();
    let env = Env::new(&shared_config(
        &pg.url(),
        &redis_state(MACHINE_REDIS, &redis_prefix()),
    ));
    env.add_user("alice", "alice-pw", &[]);
    let key = env.create_key("ci", &[]);
    pg.kill();
    let started = Instant::now();
    let warden = env.serve();
    let start_took = started.elapsed();
    let (r, health_took) = timed(&warden, "/.warden/health", &[]);
    assert_eq!(r.status, 503, "{r:#?}");
    assert_eq!(
        r.body,
        "unavailable\nstore (postgresql): down\nstate (redis): up\n"
    );
    assert_eq!(r.all("retry-after").len(), 1, "{r:#?}");
    let alice = basic("alice", "alice-pw");
    let key = bearer(&key);
    let jwt = bearer(&tokens::token("robot", &[], ""));
    for auth in [&alice, &key] {
        let r = warden.get("/private/x", &[JSON, ("Authorization", auth)]);
        assert_eq!(r.status, 503, "{r:#?}");
        assert_eq!(r.all("retry-after").len(), 1, "{r:#?}");
        assert!(r.all("set-cookie").is_empty(), "{r:#?}");
        assert_eq!(r.code(), "unavailable");
    }
    let r = warden.get("/private/x", &[JSON, ("Authorization", &jwt)]);
    assert_eq!(r.status, 200, "a JWT needs no store: {r:#?}");

    let restart_at = Instant::now();
    pg.restart();
    let pg_took = restart_at.elapsed();
    let back = poll_until(RECOVERY, "200 once PostgreSQL is up", || {
        let statuses: Vec<u16> = [&alice, &key]
            .iter()
            .map(|auth| {
                warden
                    .get("/private/x", &[JSON, ("Authorization", auth)])
                    .status
            })
            .collect();
        assert!(
            statuses.iter().all(|s| [200, 503].contains(s)),
            "{statuses:?}"
        );
        (statuses == [200, 200]).then(|| restart_at.elapsed())
    });
    let r = warden.get("/.warden/health", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.body, "ok\nstore (postgresql): up\nstate (redis): up\n");
    eprintln!(
        "warden started with postgresql down: listening after {start_took:?}, health 503 in {health_took:?}; \
         postgresql start took {pg_took:?}; 200 again {back:?} after the restart began"
    );
}

#[test]
fn warden_started_while_redis_is_down_answers_once_it_is_up() {
    let schema = pg_schema();
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let env = Env::new(&shared_config(
        &schema.url,
        &redis_state(&url, &redis_prefix()),
    ));
    env.add_user("alice", "alice-pw", &[]);
    let warden = env.serve();
    let r = warden.get("/.warden/health", &[]);
    assert_eq!(r.status, 503, "{r:#?}");
    assert_eq!(
        r.body,
        "unavailable\nstore (postgresql): up\nstate (redis): down\n"
    );
    let alice = basic("alice", "alice-pw");
    let r = warden.get("/private/x", &[JSON, ("Authorization", &alice)]);
    assert_eq!(r.status, 503, "{r:#?}");
    assert_eq!(r.all("retry-after").len(), 1, "{r:#?}");
    let started = Instant::now();
    let _redis = PrivateRedis::start_with(port, &[]);
    let back = poll_until(RECOVERY, "200 once Redis is up", || {
        let r = warden.get("/private/x", &[JSON, ("Authorization", &alice)]);
        assert!([200, 503].contains(&r.status), "{r:#?}");
        (r.status == 200).then(|| started.elapsed())
    });
    let r = warden.get("/.warden/health", &[]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "ok\nstore (postgresql): up\nstate (redis): up\n")
    );
    eprintln!("warden started with redis down: 200 again {back:?} after redis started");
}
