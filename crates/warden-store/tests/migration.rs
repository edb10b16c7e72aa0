//! Schema versions: a version-1 file (users and API keys only) gains sessions on open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TempDir, connect, open};
use warden_store::{SessionLimits, Store};

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
async fn fresh_database_is_version_2() {
    let dir = TempDir::new();
    open(&dir).await;
    assert_eq!(user_version(&dir).await, 2);
    assert_eq!(
        objects(&dir).await,
        ["api_keys", "sessions", "sessions_user", "users"]
    );
}

#[tokio::test]
async fn version_1_gains_sessions_and_keeps_its_data() {
    let dir = TempDir::new();
    let key = write_v1(&dir).await;
    assert_eq!(user_version(&dir).await, 1);
    assert_eq!(objects(&dir).await, ["api_keys", "users"]);

    let store = open(&dir).await;
    assert_eq!(user_version(&dir).await, 2);
    assert_eq!(
        objects(&dir).await,
        ["api_keys", "sessions", "sessions_user", "users"]
    );
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
    assert_eq!(user_version(&dir).await, 2);
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
