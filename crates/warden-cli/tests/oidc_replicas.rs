//! Sign-in through a provider across two replicas sharing PostgreSQL and Redis, behind one
//! public address: a sign-in begun on one replica finishes on the other, a back-channel
//! logout delivered to one ends the session on both (caches warm), and a due refresh asked
//! of both at once reaches the provider once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oidc_cases;

use std::time::{Duration, Instant};

use common::browser::{SESSION, set_cookie};
use common::op::{Op, OpAgent};
use common::services::{MACHINE_REDIS, PgSchema, pg_schema, redis_prefix, redis_state};
use common::{BROWSER_ACCEPT, Env, Response, Warden, closed_port};
use oidc_cases::{Options, SECRET, client, config, param, provider_block};
use serde_json::json;

/// One provider and two replicas. `a` listens on the public address the provider knows
/// (`public`); `b` on a port of its own, reached as if through the same load balancer.
struct Replicas {
    op: Op,
    a: Warden,
    b: Warden,
    public: String,
    _schema: PgSchema,
}

impl Replicas {
    fn start(options: Options) -> Self {
        let port = closed_port();
        let public = format!("http://127.0.0.1:{port}");
        let mut op_config = options.op;
        op_config["clients"] = json!([client(port)]);
        let op = Op::start(op_config);
        let schema = pg_schema();
        let env_a = Env::new("");
        let secret = env_a.dir.path.join("client-secret");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        let providers = provider_block("op", "Test OP", op.issuer(), &secret.display().to_string());
        let shared = config(port, &providers, false).replace(
            "[login]\n",
            &format!("[login]\npublic_url = \"{public}\"\n"),
        ) + &format!(
            "[store]\nurl = \"{}\"\n[state]\n{}",
            schema.url,
            redis_state(MACHINE_REDIS, &redis_prefix())
        );
        std::fs::write(&env_a.config, &shared).unwrap();
        let own_port = shared.replace(
            &format!("127.0.0.1:{port}\"\nrealm"),
            "127.0.0.1:0\"\nrealm",
        );
        assert_ne!(own_port, shared, "replica b listens elsewhere");
        let env_b = Env::new(&own_port);
        std::fs::write(env_b.dir.path.join("client-secret"), format!("{SECRET}\n")).unwrap();
        let (a, b) = (env_a.serve(), env_b.serve());
        assert_ne!(a.addr, b.addr);
        Self {
            op,
            a,
            b,
            public,
            _schema: schema,
        }
    }

    /// `path` on replica `w`.
    fn url(w: &Warden, path: &str) -> String {
        format!("http://{}{path}", w.addr)
    }

    /// A navigation to `/private/x` on `w` carrying only the session cookie.
    fn navigate(w: &Warden, token: &str) -> Response {
        let cookie = format!("{SESSION}={token}");
        w.get(
            "/private/x",
            &[("Cookie", &cookie), ("Accept", BROWSER_ACCEPT)],
        )
    }
}

/// Signs alice in: the sign-in starts on `a`, the provider sends her back to the public
/// address, and the load balancer hands the callback to `b`. Returns the session token and
/// the callback's URL on the public address.
fn sign_in_across(r: &Replicas, agent: &mut OpAgent) -> (String, String) {
    let start = agent.get(&Replicas::url(&r.a, "/private/x"));
    assert_eq!(start.status, 302, "{start:#?}");
    let login = format!("http://{}{}", r.a.addr, start.header("location").unwrap());
    let to_op = agent.get(&login);
    assert_eq!(to_op.status, 302, "{to_op:#?}");
    let authorize = to_op.header("location").unwrap().to_owned();
    assert_eq!(
        param(&authorize, "redirect_uri"),
        format!("{}/.warden/oidc/callback", r.public),
        "the redirect_uri is the public address"
    );
    let callback = agent.sign_in(&authorize, "alice", "any", None);
    let on_b = callback.replacen(&r.public, &format!("http://{}", r.b.addr), 1);
    assert_ne!(on_b, callback);
    let done = agent.get(&on_b);
    assert_eq!(
        done.status, 303,
        "the other replica finishes the sign-in: {done:#?}"
    );
    assert_eq!(done.header("location"), Some("/private/x"), "{done:#?}");
    (set_cookie(&done, SESSION).value, callback)
}

/// Both replicas let the session in, as alice (and their caches now hold it).
fn assert_in_on_both(r: &Replicas, token: &str) {
    for w in [&r.a, &r.b] {
        let resp = Replicas::navigate(w, token);
        assert_eq!(resp.status, 200, "{resp:#?}");
        assert_eq!(resp.header("x-auth-subject"), Some("alice"), "{resp:#?}");
    }
}

#[test]
fn a_sign_in_begun_on_one_replica_finishes_on_the_other() {
    let r = Replicas::start(Options::default());
    let mut agent = OpAgent::new();
    let (token, callback) = sign_in_across(&r, &mut agent);
    assert!(token.starts_with("wdf_"), "a federated session: {token}");
    assert_in_on_both(&r, &token);
    // The one-time state was taken by `b`: the same callback replayed on `a` is refused.
    let replay = agent.get(&callback);
    assert_eq!(replay.status, 400, "{replay:#?}");
    assert!(
        replay
            .all("set-cookie")
            .iter()
            .all(|c| !c.starts_with(SESSION)),
        "{replay:#?}"
    );
}

#[test]
fn a_back_channel_logout_on_one_replica_ends_the_session_on_both() {
    let r = Replicas::start(Options::default());
    let mut agent = OpAgent::new();
    let (token, _) = sign_in_across(&r, &mut agent);
    assert_in_on_both(&r, &token);
    // The provider delivers the logout token to the public address: replica `a`.
    let sent = r.op.backchannel_logout("alice");
    assert_eq!(sent["sent"][0]["ok"], true, "{sent}");
    let start = Instant::now();
    for w in [&r.a, &r.b] {
        loop {
            let resp = Replicas::navigate(w, &token);
            if resp.status == 302 {
                break;
            }
            assert_eq!(resp.status, 200, "{resp:#?}");
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "replica {} still lets the session in",
                w.addr
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_refresh_due_on_both_replicas_reaches_the_provider_once() {
    let mut options = Options::default();
    options.op["ttl"] = json!({"AccessToken": 5});
    let r = Replicas::start(options);
    let mut agent = OpAgent::new();
    let (token, _) = sign_in_across(&r, &mut agent);
    assert_in_on_both(&r, &token);
    let before = r.op.count("token");
    std::thread::sleep(Duration::from_secs(6));
    let answers: Vec<Response> = std::thread::scope(|s| {
        let calls: Vec<_> = [&r.a, &r.b, &r.a, &r.b]
            .into_iter()
            .map(|w| s.spawn(|| Replicas::navigate(w, &token)))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for resp in &answers {
        assert_eq!(resp.status, 200, "{resp:#?}");
    }
    assert_eq!(
        r.op.count("token"),
        before + 1,
        "one refresh for the whole deployment"
    );
    assert_in_on_both(&r, &token);
}
