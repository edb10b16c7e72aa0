//! Schema versions: a version-1 file (users and API keys only) gains sessions on open, and a
//! version-2 file (with sessions) gains federated sessions and pending sign-ins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TempDir, connect, open};
use warden_store::session::hash_token;
use warden_store::{FederatedLogin, PendingSignIn, SessionLimits, Store};

const LIMITS: SessionLimits = SessionLimits {
    idle: 60,
    absolute: 600,
};

/// The version-1 schema exactly as the first release wrote it.
const V1: &[&str] = &[
    "CREATE TABLE users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
    "CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        roles TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
    "PRAGMA user_version = 1",
];

/// Writes a version-1 database holding user `old` (password `pw`, role `r`) and one API key.
async fn write_v1(dir: &TempDir) -> String {
    std::fs::create_dir_all(dir.data()).unwrap();
    let mut conn = connect(dir).await;
    for statement in V1 {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    let phc = warden_store::password::hash_password("pw").unwrap();
    sqlx::query("INSERT INTO users VALUES ('old', ?, 'r', 0, 1)")
        .bind(phc)
        .execute(&mut conn)
        .await
        .unwrap();
    let key = warden_store::api_key::generate().unwrap();
    sqlx::query("INSERT INTO api_keys VALUES (?, 'ci', ?, '', 0, 2)")
        .bind(&key.id)
        .bind(&key.hash)
        .execute(&mut conn)
        .await
        .unwrap();
    key.plaintext
}

/// What version 2 added to version 1, exactly as that release wrote it.
const V2: &[&str] = &[
    "CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )",
    "CREATE INDEX sessions_user ON sessions (user)",
    "PRAGMA user_version = 2",
];

/// The cookie of the session [`write_v2`] stores.
const V2_TOKEN: &str = "wds_written-by-version-2-aaaaaaaaaaaaaaaaaaaaaaaa";

/// Writes a version-2 database: [`write_v1`]'s data plus a session of `old` for [`V2_TOKEN`].
async fn write_v2(dir: &TempDir) -> String {
    let key = write_v1(dir).await;
    let mut conn = connect(dir).await;
    for statement in V2 {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    sqlx::query("INSERT INTO sessions VALUES ('00000000000a', ?, 'old', 1000, 1000, 1600)")
        .bind(hash_token(V2_TOKEN))
        .execute(&mut conn)
        .await
        .unwrap();
    key
}

/// Every table and index of the current schema, sorted.
const V3_OBJECTS: &[&str] = &[
    "api_keys",
    "federated_sessions",
    "federated_sessions_expires",
    "federated_sessions_sid",
    "federated_sessions_subject",
    "oidc_pending",
    "oidc_pending_expires",
    "sessions",
    "sessions_user",
    "users",
];

async fn user_version(dir: &TempDir) -> i64 {
    sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut connect(dir).await)
        .await
        .unwrap()
}

/// Names of the tables and indexes in the file, sorted.
async fn objects(dir: &TempDir) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut connect(dir).await)
    .await
    .unwrap()
}

#[tokio::test]
async fn fresh_database_is_version_3() {
    let dir = TempDir::new();
    open(&dir).await;
    assert_eq!(user_version(&dir).await, 3);
    assert_eq!(objects(&dir).await, V3_OBJECTS);
}

#[tokio::test]
async fn version_1_gains_sessions_and_keeps_its_data() {
    let dir = TempDir::new();
    let key = write_v1(&dir).await;
    assert_eq!(user_version(&dir).await, 1);
    assert_eq!(objects(&dir).await, ["api_keys", "users"]);

    let store = open(&dir).await;
    assert_eq!(user_version(&dir).await, 3);
    assert_eq!(objects(&dir).await, V3_OBJECTS);
    let user = store.check_password("old", "pw").await.unwrap().unwrap();
    assert_eq!((user.roles, user.created_at), (vec!["r".to_owned()], 1));
    assert_eq!(store.check_api_key(&key).await.unwrap().unwrap().name, "ci");

    let s = store.create_session("old", 1_000, LIMITS).await.unwrap();
    let (_, user) = store
        .check_session(&s.token, 1_001, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "old");
    drop(store);

    // Opening again is a no-op: the session survives.
    let store = open(&dir).await;
    assert_eq!(user_version(&dir).await, 3);
    assert_eq!(store.list_sessions(1_001).await.unwrap(), [s.record]);
}

#[tokio::test]
async fn migrated_sessions_cascade_with_their_user() {
    let dir = TempDir::new();
    write_v1(&dir).await;
    let store = open(&dir).await;
    store.create_session("old", 1_000, LIMITS).await.unwrap();
    // sqlx enables foreign keys on every connection, so the delete cascades.
    sqlx::query("DELETE FROM users WHERE name = 'old'")
        .execute(&mut connect(&dir).await)
        .await
        .unwrap();
    assert!(store.list_sessions(1_000).await.unwrap().is_empty());
}

#[tokio::test]
async fn version_2_gains_federated_sessions_and_keeps_its_data() {
    let dir = TempDir::new();
    let key = write_v2(&dir).await;
    assert_eq!(user_version(&dir).await, 2);
    assert_eq!(
        objects(&dir).await,
        ["api_keys", "sessions", "sessions_user", "users"]
    );

    let store = open(&dir).await;
    assert_eq!(user_version(&dir).await, 3);
    assert_eq!(objects(&dir).await, V3_OBJECTS);
    assert!(store.check_password("old", "pw").await.unwrap().is_some());
    assert_eq!(store.check_api_key(&key).await.unwrap().unwrap().name, "ci");
    let (session, user) = store
        .check_session(V2_TOKEN, 1_001, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session.id.as_str(), session.provider),
        ("00000000000a", None)
    );
    assert_eq!((user.name.as_str(), session.expires_at), ("old", 1_600));

    let login = FederatedLogin {
        provider: "corp".to_owned(),
        subject: "s-1".to_owned(),
        roles: Vec::new(),
        acr: None,
        amr: Vec::new(),
        auth_time: None,
        sid: None,
        refresh_token: None,
        id_token: None,
        refresh_at: None,
    };
    let fed = store
        .create_federated_session(&login, 1_002, LIMITS)
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_sessions(1_002)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ["00000000000a".to_owned(), fed.record.id]);
    let pending = PendingSignIn {
        provider: "corp".to_owned(),
        nonce: "n".to_owned(),
        code_verifier: "v".to_owned(),
        return_to: "/".to_owned(),
        acr_values: None,
        max_age: None,
        created_at: 1_002,
        expires_at: 1_100,
    };
    store.put_pending_sign_in("st", &pending).await.unwrap();
    let taken = store.take_pending_sign_in("st", 1_003).await.unwrap();
    assert_eq!(taken, Some(pending));
}
