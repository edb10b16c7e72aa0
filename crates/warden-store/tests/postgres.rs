//! What only the PostgreSQL backend promises: migrations under an advisory lock, errors
//! classified for retry, every call bounded by the timeout, recovery, indexed key lookups.
//! Everything backend-neutral is in the conformance suite (`conformance_postgres.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use warden_store::{PgStore, Store, StoreError};

use common::pg::{Proxy, TestSchema, base_url, host_port, with_database, with_host_port};

/// Every table of the current schema, sorted.
const TABLES: &[&str] = &[
    "api_keys",
    "federated_sessions",
    "oidc_pending",
    "sessions",
    "users",
    "warden_schema",
];

/// A short timeout for the tests that wait for it.
const SHORT: Duration = Duration::from_secs(1);

/// A local port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `base_url()` pointed at `127.0.0.1:port`.
fn url_on_port(port: u16) -> String {
    with_host_port(&base_url(), &format!("127.0.0.1:{port}"))
}

#[tokio::test]
async fn search_path_puts_everything_in_the_test_schema() {
    let schema = TestSchema::new().await;
    let store = schema.store();
    assert_eq!(store.schema_version().await.unwrap(), 0);
    assert!(schema.tables().await.is_empty());
    store.add_user("alice", "pw", &[]).await.unwrap();
    assert_eq!(schema.tables().await, TABLES);
    let current = "SELECT count(*) FROM users WHERE current_schema() = $1";
    let mut conn = schema.connect().await;
    let n: i64 = sqlx::query_scalar(current)
        .bind(schema.name())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn migration_is_idempotent_and_concurrent_migrations_agree() {
    let schema = TestSchema::new().await;
    let (a, b) = (schema.store(), schema.store());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert_eq!(a.schema_version().await.unwrap(), 3);
    assert_eq!(schema.int("SELECT count(*) FROM warden_schema").await, 1);

    a.add_user("alice", "pw", &[]).await.unwrap();
    a.migrate().await.unwrap();
    schema.store().migrate().await.unwrap();
    assert_eq!(b.list_users().await.unwrap().len(), 1);
    assert_eq!(
        schema.int("SELECT max(version) FROM warden_schema").await,
        3
    );
    assert_eq!(schema.int("SELECT count(*) FROM warden_schema").await, 1);
    let indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
                   AND indexname IN ('sessions_user', 'sessions_expires', 'api_keys_key_hash_key',
                   'federated_sessions_token_hash_key', 'federated_sessions_subject',
                   'federated_sessions_sid', 'federated_sessions_expires',
                   'oidc_pending_expires', 'oidc_pending_pkey')";
    assert_eq!(schema.int(indexes).await, 9);
}

#[tokio::test]
async fn many_stores_starting_together_all_migrate() {
    let schema = TestSchema::new().await;
    let stores: Vec<PgStore> = (0..6).map(|_| schema.store()).collect();
    let calls = stores.iter().map(|s| s.list_users());
    for result in futures_util::future::join_all(calls).await {
        assert!(result.unwrap().is_empty());
    }
    assert_eq!(schema.int("SELECT count(*) FROM warden_schema").await, 1);
}

#[tokio::test]
async fn newer_schema_is_refused_and_nothing_is_written() {
    let schema = TestSchema::new().await;
    schema
        .exec("CREATE TABLE warden_schema (version BIGINT NOT NULL)")
        .await;
    schema.exec("INSERT INTO warden_schema VALUES (99)").await;
    let store = schema.store();
    assert_eq!(store.schema_version().await.unwrap(), 99);
    let err = store.migrate().await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaVersion(99)), "{err:?}");
    assert!(err.is_unavailable() && !err.is_transient());
    let err = store.add_user("alice", "pw", &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaVersion(99)), "{err:?}");
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaVersion(99)), "{err:?}");
    assert_eq!(schema.tables().await, ["warden_schema"]);
    assert_eq!(schema.int("SELECT count(*) FROM warden_schema").await, 1);
    assert_eq!(
        schema.int("SELECT max(version) FROM warden_schema").await,
        99
    );
}

#[tokio::test]
async fn older_schema_gains_sessions_and_keeps_its_data() {
    let schema = TestSchema::new().await;
    let store = schema.store();
    store.migrate().await.unwrap();
    store.add_user("old", "pw", &[]).await.unwrap();
    // Back to version 1: users and API keys only.
    for table in ["sessions", "federated_sessions", "oidc_pending"] {
        schema.exec(&format!("DROP TABLE {table}")).await;
    }
    schema.exec("UPDATE warden_schema SET version = 1").await;

    let store = schema.store();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    assert!(store.check_password("old", "pw").await.unwrap().is_some());
    assert_eq!(store.schema_version().await.unwrap(), 3);
    assert_eq!(schema.tables().await, TABLES);
    let limits = warden_store::SessionLimits {
        idle: 60,
        absolute: 600,
    };
    let s = store.create_session("old", 1_000, limits).await.unwrap();
    assert!(
        store
            .check_session(&s.token, 1_001, limits)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn version_2_gains_federated_sessions_and_keeps_its_sessions() {
    let schema = TestSchema::new().await;
    let store = schema.store();
    store.add_user("old", "pw", &[]).await.unwrap();
    let limits = warden_store::SessionLimits {
        idle: 60,
        absolute: 600,
    };
    let s = store.create_session("old", 1_000, limits).await.unwrap();
    // Back to version 2: what version 3 added is gone, the session stays.
    schema.exec("DROP TABLE federated_sessions").await;
    schema.exec("DROP TABLE oidc_pending").await;
    schema.exec("UPDATE warden_schema SET version = 2").await;

    let store = schema.store();
    assert_eq!(store.schema_version().await.unwrap(), 2);
    let (session, _) = store
        .check_session(&s.token, 1_001, limits)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session, s.record);
    assert_eq!(store.schema_version().await.unwrap(), 3);
    assert_eq!(schema.tables().await, TABLES);
    let login = warden_store::FederatedLogin {
        provider: "corp".to_owned(),
        subject: "s-1".to_owned(),
        roles: Vec::new(),
        acr: None,
        amr: Vec::new(),
        auth_time: None,
        sid: Some("sid".to_owned()),
        refresh_token: None,
        id_token: None,
        refresh_at: None,
    };
    let fed = store
        .create_federated_session(&login, 1_002, limits)
        .await
        .unwrap();
    let listed = store.list_sessions(1_002).await.unwrap();
    assert_eq!(listed, [s.record, fed.record]);
}

#[tokio::test]
async fn unknown_database_is_a_permanent_error() {
    let url = with_database(&base_url(), "warden_no_such_database");
    let store = PgStore::new(&url, SHORT).unwrap();
    let err = store.ping().await.unwrap_err();
    let StoreError::Database(db) = &err else {
        panic!("{err:?}");
    };
    let code = db.as_database_error().and_then(|d| d.code());
    assert_eq!(code.as_deref(), Some("3D000"), "{err:?}");
    assert!(!err.is_transient(), "{err:?}");
    assert!(err.is_unavailable());
    // The store keeps answering, with the same error, without panicking or caching success.
    let err = store.list_users().await.unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn closed_port_is_transient_within_the_timeout() {
    // Building the store is not an error: warden starts while PostgreSQL is down.
    let store = PgStore::new(&url_on_port(closed_port()), SHORT).unwrap();
    let started = Instant::now();
    let err = store.list_users().await.unwrap_err();
    assert!(started.elapsed() < SHORT + Duration::from_secs(1));
    assert!(err.is_transient(), "{err:?}");
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections and never answers, like a hung server or a black-holed route.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let store = PgStore::new(&url_on_port(port), SHORT).unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let err = store.check_api_key(&new_plaintext()).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(err, StoreError::Timeout("postgresql", 1000)),
            "{err:?}"
        );
        assert!(elapsed >= SHORT - Duration::from_millis(50), "{elapsed:?}");
        assert!(elapsed < SHORT + Duration::from_secs(1), "{elapsed:?}");
        assert!(err.is_transient());
        // Right after a failure the calls fail at once instead of waiting again.
        let started = Instant::now();
        let err = store.schema_version().await.unwrap_err();
        assert!(
            matches!(err, StoreError::Unreachable("postgresql")),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(err.is_transient() && err.is_unavailable());
        // Half a second later one call probes again, and waits out the timeout.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
}

fn new_plaintext() -> String {
    warden_store::api_key::generate().unwrap().plaintext
}

#[tokio::test]
async fn recovers_when_postgresql_comes_back_and_after_a_restart() {
    let schema = TestSchema::new().await;
    let port = closed_port();
    let url = with_host_port(schema.url(), &format!("127.0.0.1:{port}"));
    let store = PgStore::new(&url, SHORT).unwrap();
    let err = store.add_user("alice", "pw", &[]).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(schema.tables().await.is_empty());

    // PostgreSQL "comes up" on the port: the failed migration is retried by the next call.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let proxy = Proxy::start(listener, host_port(&base_url()));
    // Calls fail fast for half a second after a failure; then one probes and finds it back.
    tokio::time::sleep(Duration::from_millis(600)).await;
    store.add_user("alice", "pw", &[]).await.unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 1);

    // A restart kills every pooled connection; the next calls reconnect by themselves.
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        assert_eq!(store.list_users().await.unwrap().len(), 1);
    }
    drop(proxy);
    let err = store.list_users().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn bad_urls_are_refused_without_showing_the_password() {
    for url in [
        "postgres://warden:s3cretpw@127.0.0.1:notaport/test",
        "mysql://warden:s3cretpw@127.0.0.1/test",
        "postgres://warden:s3cretpw@127.0.0.1/test?sslmode=maybe",
    ] {
        let err = PgStore::new(url, SHORT).unwrap_err();
        assert!(matches!(err, StoreError::Url(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("s3cretpw"), "{err}");
        assert!(!err.is_transient());
    }
    let store = PgStore::new("postgres://warden:s3cretpw@127.0.0.1/test", SHORT).unwrap();
    assert!(!format!("{store:?}").contains("s3cretpw"));
}

/// Inserts `n` keys `wdn_bulk<i>` (name `bulk`) in one statement; their hashes are computed
/// by PostgreSQL exactly as `api_key::hash_key` computes them.
async fn insert_bulk_keys(schema: &TestSchema, n: i64) {
    schema
        .exec(&format!(
            "INSERT INTO api_keys (id, name, key_hash, roles, revoked, created_at)
             SELECT 'b' || lpad(to_hex(i), 11, '0'), 'bulk',
                    encode(sha256(convert_to('wdn_bulk' || i, 'UTF8')), 'hex'), 'bulk', FALSE, 1
             FROM generate_series(1, {n}) AS i"
        ))
        .await;
}

#[tokio::test]
async fn keys_are_found_by_index_among_200_000() {
    let schema = TestSchema::new().await;
    let store = schema.store();
    let real = store.create_api_key("real", &[]).await.unwrap();
    insert_bulk_keys(&schema, 200_000).await;
    assert_eq!(schema.int("SELECT count(*) FROM api_keys").await, 200_001);
    let last = store.create_api_key("last", &[]).await.unwrap();

    for (key, name) in [(&real.plaintext, "real"), (&last.plaintext, "last")] {
        let found = store.check_api_key(key).await.unwrap().unwrap();
        assert_eq!(found.name, name);
    }
    let bulk = store
        .check_api_key("wdn_bulk123456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (bulk.id.as_str(), bulk.name.as_str()),
        ("b0000001e240", "bulk")
    );
    assert_eq!(store.check_api_key(&new_plaintext()).await.unwrap(), None);

    let mut conn = schema.connect().await;
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id, name, roles, revoked, created_at FROM api_keys WHERE key_hash = $1",
    )
    .bind(&real.hash)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("Index Scan using api_keys_key_hash_key on api_keys"),
        "{plan}"
    );
}
