//! The `[store]` and `[state]` settings from the command line: `config check` names the key,
//! line and variable of a bad URL; the CLI and `serve` refuse what only an operator can fix
//! (no such database, a newer schema, a Redis password missing) with one line naming the
//! setting; `migrate`, users, keys and sessions work on PostgreSQL; Redis passwords from a
//! file or the environment work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::services::*;
use common::*;

/// The standard config with these lines appended.
fn config_with(extra: &str) -> String {
    format!("{}{extra}", standard_config())
}

/// The 1-based line of the first line of `config` containing `needle`.
fn line_of(config: &str, needle: &str) -> usize {
    config
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in:\n{config}"))
        + 1
}

/// A failure that printed exactly one line on stderr, containing every one of `names`, and
/// nothing that looks like a crash.
fn assert_one_line_error(out: &CliOutput, names: &[&str]) -> String {
    assert!(!out.status.success(), "must fail: {out:#?}");
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line expected: {out:#?}");
    for name in names {
        assert!(lines[0].contains(name), "`{name}` not named: {out:#?}");
    }
    for crash in ["panicked", "backtrace", "RUST_BACKTRACE", "Caused by"] {
        assert!(!out.stderr.contains(crash), "{crash}: {out:#?}");
    }
    lines[0].to_owned()
}

#[test]
fn config_check_reports_a_malformed_store_url_with_its_line_and_key() {
    let config = config_with("[store]\nurl = \"mysql://x\"\n");
    let env = Env::new(&config);
    let out = env.cli(&["config", "check"], None);
    let line = line_of(&config, "mysql://");
    let at = format!("{}:line {line}, column ", env.config.display());
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let error = assert_one_line_error(&out, &[&at, "`store.url`", "postgres://"]);
    assert!(
        !error.contains("mysql://x"),
        "the URL may hold a password: {error}"
    );
}

#[test]
fn config_check_names_an_unset_variable_in_the_store_url() {
    let var = format!("WARDEN_TEST_UNSET_{}", random_hex(4).to_uppercase());
    let config = config_with(&format!(
        "[store]\nurl = \"postgres://w:${{{var}}}@db/w\"\n"
    ));
    let env = Env::new(&config);
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_one_line_error(&out, &["`store.url`", &format!("${{{var}}}"), "not set"]);
    // `serve` says the same and does not start.
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success());
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("`store.url`") && last.contains(&var),
        "{stderr}"
    );
}

#[test]
fn config_check_reports_a_missing_url_file() {
    let env = Env::new(&config_with(
        "[store]\nurl_file = \"secrets/no-such-file\"\n",
    ));
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_one_line_error(&out, &["`store.url_file`", "no-such-file"]);
    let env = Env::new(&config_with("[state]\nurl_file = \"secrets/no-redis\"\n"));
    let out = env.cli(&["config", "check"], None);
    assert_one_line_error(&out, &["`state.url_file`", "no-redis"]);
}

#[test]
fn the_cli_against_a_nonexistent_database_fails_with_one_line_naming_the_setting() {
    let url = with_database(&pg_base_url(), "warden_no_such_db");
    let env = Env::new(&config_with(&format!("[store]\nurl = \"{url}\"\n")));
    let mut outputs = Vec::new();
    let commands = [
        &["user", "list"][..],
        &["key", "list"],
        &["session", "list"],
        &["migrate"],
    ];
    for args in commands {
        let out = env.cli(args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:#?}");
        assert_one_line_error(&out, &["`store.url`", "warden_no_such_db"]);
        outputs.push((args, out));
    }
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("`store.url`") && last.contains("warden_no_such_db"),
        "{stderr}"
    );
    // Two flaws, both reported: the cause repeated, a table header before the error.
    let mut flaws = Vec::new();
    if last.matches("does not exist").count() != 1 {
        flaws.push(format!("serve repeats the cause: {last}"));
    }
    for (args, out) in outputs {
        if !out.stdout.is_empty() {
            flaws.push(format!("{args:?} printed {:?} before failing", out.stdout));
        }
    }
    assert!(flaws.is_empty(), "{}", flaws.join("\n"));
}

/// The error says `what` once (an error chain printed whole repeats every cause).
fn assert_said_once(line: &str, what: &str) {
    assert_eq!(line.matches(what).count(), 1, "`{what}` repeated: {line}");
}

#[test]
fn serve_refuses_a_schema_newer_than_the_binary_and_leaves_it_alone() {
    let schema = pg_schema();
    let env = Env::new(&config_with(&format!(
        "[store]\nurl = \"{}\"\n",
        schema.url
    )));
    env.cli(&["migrate"], None).ok();
    schema.sql("UPDATE warden_schema SET version = 999");
    let tables = "SELECT string_agg(table_name, ',' ORDER BY table_name) \
                  FROM information_schema.tables WHERE table_schema = current_schema()";
    let before = schema.sql(tables);
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert!(
        last.contains("`store.url`") && last.contains("999"),
        "{stderr}"
    );
    assert!(!stderr.contains("warden is listening"), "{stderr}");
    assert_eq!(
        schema.sql("SELECT count(*), max(version) FROM warden_schema"),
        "1|999"
    );
    assert_eq!(schema.sql(tables), before);
    // The CLI refuses it the same way.
    let list = env.cli(&["user", "list"], None);
    assert_one_line_error(&list, &["`store.url`", "999"]);
    let out = env.cli(&["migrate"], None);
    assert_one_line_error(&out, &["`store.url`", "999"]);
    assert_eq!(
        schema.sql("SELECT count(*), max(version) FROM warden_schema"),
        "1|999"
    );
    assert_said_once(last, "unsupported schema version 999");
}

#[test]
fn migrate_reports_the_version_change_and_is_then_a_no_op() {
    let schema = pg_schema();
    let env = Env::new(&config_with(&format!(
        "[store]\nurl = \"{}\"\n",
        schema.url
    )));
    let out = env.cli(&["migrate"], None).ok();
    let version = schema.sql("SELECT max(version) FROM warden_schema");
    assert_eq!(
        out.stdout,
        format!("postgresql schema: version 0 -> {version}\n"),
        "{out:#?}"
    );
    assert!(version.parse::<i64>().unwrap() >= 2, "{version}");
    let tables = schema.sql(
        "SELECT string_agg(table_name, ',' ORDER BY table_name) \
         FROM information_schema.tables WHERE table_schema = current_schema()",
    );
    assert_eq!(
        tables,
        "api_keys,federated_sessions,oidc_pending,sessions,users,warden_schema"
    );
    let out = env.cli(&["migrate"], None).ok();
    assert_eq!(
        out.stdout,
        format!("postgresql schema: version {version} -> {version}\n")
    );
    assert_eq!(schema.sql("SELECT count(*) FROM warden_schema"), "1");
}

/// `(first column, rest)` of each row of a listing, after its header.
fn rows(out: &CliOutput) -> Vec<Vec<String>> {
    out.stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn users_keys_and_sessions_are_managed_in_postgresql() {
    let schema = pg_schema();
    let config = format!(
        "{}[login]\n[store]\nurl = \"{}\"\n",
        standard_config(),
        schema.url
    );
    let env = Env::new(&config);
    env.add_user("alice", "alice-pw", &["ops", "dev"]);
    env.add_user("bob", "bob-pw", &[]);
    let out = env.cli(&["user", "add", "alice", "--password-stdin"], Some("x\n"));
    assert_one_line_error(&out, &["alice"]);
    let out = env.cli(&["user", "list"], None).ok();
    assert_eq!(
        rows(&out),
        [vec!["alice", "active", "ops,dev"], vec!["bob", "active"]],
        "{out:#?}"
    );
    assert_eq!(
        schema.sql("SELECT count(*) FROM users"),
        "2",
        "in the schema itself"
    );

    let key = env.create_key("ci", &["deployer"]);
    let id = env.key_id("ci");
    let out = env.cli(&["key", "list"], None).ok();
    assert_eq!(
        rows(&out),
        [vec![id.as_str(), "ci", "active", "deployer"]],
        "{out:#?}"
    );

    let warden = env.serve();
    let r = warden.get("/private/x", &[("Authorization", &bearer(&key))]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["ci"]);
    let token = warden.sign_in("alice", "alice-pw");
    let out = warden.cli(&["session", "list"], None).ok();
    let sessions = rows(&out);
    assert_eq!(sessions.len(), 1, "{out:#?}");
    assert_eq!(sessions[0][1], "alice", "{out:#?}");

    warden.cli(&["key", "revoke", &id], None).ok();
    let out = warden.cli(&["key", "list"], None).ok();
    assert_eq!(rows(&out), [vec![id.as_str(), "ci", "revoked", "deployer"]]);
    let r = poll_until(
        std::time::Duration::from_secs(1),
        "the revoked key refused",
        || {
            let r = warden.get("/private/x", &[("Authorization", &bearer(&key))]);
            (r.status != 200).then_some(r)
        },
    );
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER_INVALID, BASIC]);

    let out = warden
        .cli(&["session", "revoke", &sessions[0][0]], None)
        .ok();
    assert_eq!(
        out.stdout.trim(),
        format!("ended session {}", sessions[0][0])
    );
    assert!(rows(&warden.cli(&["session", "list"], None).ok()).is_empty());
    let cookie = browser::session_cookie(&token);
    let r = poll_until(
        std::time::Duration::from_secs(1),
        "the ended session refused",
        || {
            let r = warden.get(
                "/private/x",
                &[("Accept", "application/json"), ("Cookie", &cookie)],
            );
            (r.status != 200).then_some(r)
        },
    );
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges().len(), 2, "{r:#?}");
}

/// A config on the machine's PostgreSQL (a schema of its own) with this `[state]` body.
fn redis_config(schema: &PgSchema, state_body: &str) -> Env {
    Env::new(&shared_config(&schema.url, state_body))
}

#[test]
fn serve_refuses_a_redis_that_wants_a_password_it_was_not_given() {
    let redis = PrivateRedis::start_with(free_port(), &["--requirepass", "s3cret"]);
    let schema = pg_schema();
    let env = redis_config(&schema, &redis_state(&redis.url(), &redis_prefix()));
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("`state.url`"),
        "{stderr}"
    );
    assert!(!stderr.contains("warden is listening"), "{stderr}");
    let no_password = last.to_owned();
    // A wrong password is refused the same way, and never printed.
    let wrong = format!("redis://:not-it@127.0.0.1:{}", redis.port);
    let env = redis_config(&schema, &redis_state(&wrong, &redis_prefix()));
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("`state.url`"), "{stderr}");
    assert!(
        !stderr.contains("not-it"),
        "the password was printed: {stderr}"
    );
    let wrong_password = last.to_owned();
    // From a file, the error names `state.url_file` (as `store.url_file` is named).
    let state = format!(
        "url_file = \"redis.url\"\nkey_prefix = \"{}\"\n",
        redis_prefix()
    );
    let env = redis_config(&schema, &state);
    std::fs::write(env.dir.path.join("redis.url"), redis.url()).unwrap();
    let (status, stderr) = serve_until_exit(&env.config, &[]);
    assert!(!status.success(), "{stderr}");
    let from_file = stderr.lines().last().unwrap_or_default();
    assert!(from_file.starts_with("error: `state."), "{stderr}");
    let mut flaws = Vec::new();
    for (line, cause) in [
        (no_password.as_str(), "NOAUTH"),
        (&wrong_password, "authentication failed"),
    ] {
        if line.matches(cause).count() != 1 {
            flaws.push(format!("the cause is repeated: {line}"));
        }
    }
    if !from_file.contains("`state.url_file`") {
        flaws.push(format!("`state.url_file` not named: {from_file}"));
    }
    assert!(flaws.is_empty(), "{}", flaws.join("\n"));
}

/// `serve` is up on Redis with a password: health says so and a Basic check (which counts
/// attempts in Redis) passes.
fn assert_up_on_redis(warden: &Warden) {
    let r = warden.get("/.warden/health", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.body, "ok\nstore (postgresql): up\nstate (redis): up\n");
    let r = warden.get(
        "/private/x",
        &[("Authorization", &basic("alice", "alice-pw"))],
    );
    assert_eq!(r.status, 200, "{r:#?}");
}

#[test]
fn a_redis_password_from_a_file_or_the_environment_works() {
    let redis = PrivateRedis::start_with(free_port(), &["--requirepass", "pw-in-file"]);
    let schema = pg_schema();
    let state = format!(
        "url_file = \"redis.url\"\nkey_prefix = \"{}\"\n",
        redis_prefix()
    );
    let env = redis_config(&schema, &state);
    std::fs::write(
        env.dir.path.join("redis.url"),
        format!("redis://:pw-in-file@127.0.0.1:{}\n", redis.port),
    )
    .unwrap();
    env.add_user("alice", "alice-pw", &[]);
    assert_up_on_redis(&env.serve());

    let redis = PrivateRedis::start_with(free_port(), &["--requirepass", "pw-in-env"]);
    let url = format!(
        "redis://:${{WARDEN_TEST_REDIS_PW}}@127.0.0.1:{}",
        redis.port
    );
    let env = redis_config(&schema, &redis_state(&url, &redis_prefix()));
    let warden = serve_with_env(env, &[("WARDEN_TEST_REDIS_PW", "pw-in-env")]);
    assert_up_on_redis(&warden);
    assert!(!warden.log().contains("pw-in-env"), "{}", warden.log());
}
