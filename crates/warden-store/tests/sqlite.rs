//! What only the SQLite backend promises: the file, its mode, WAL, `PRAGMA user_version`.
//! Everything backend-neutral is in the conformance suite (`conformance_sqlite.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TempDir, open, set_user_version};
use warden_store::session::hash_token;
use warden_store::{FederatedLogin, PendingSignIn, SessionLimits, SqliteStore, Store, StoreError};

#[tokio::test]
async fn open_creates_db_file_and_pings() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    assert!(dir.data().join("warden.db").is_file());
    store.ping().await.unwrap();
    assert_eq!(common::journal_mode(&dir).await, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.data()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    assert!(store.list_users().await.unwrap().is_empty());
    assert!(store.list_api_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn reopen_keeps_data_and_rejects_newer_schema() {
    let dir = TempDir::new();
    {
        let store = open(&dir).await;
        store.add_user("heidi", "pw", &[]).await.unwrap();
    }
    let store = open(&dir).await;
    assert_eq!(store.list_users().await.unwrap()[0].name, "heidi");

    set_user_version(&dir, 99).await;
    let err = SqliteStore::open(&dir.data()).await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaVersion(99)), "{err:?}");
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn database_files_hold_the_session_hash_not_the_token() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    store.add_user("alice", "pw", &[]).await.unwrap();
    let limits = SessionLimits {
        idle: 60,
        absolute: 600,
    };
    let s = store.create_session("alice", 1_000, limits).await.unwrap();
    // Neither the database nor its write-ahead log holds the secret.
    let mut bytes = std::fs::read(dir.data().join("warden.db")).unwrap();
    bytes.extend(std::fs::read(dir.data().join("warden.db-wal")).unwrap_or_default());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(&hash_token(&s.token)));
    assert!(!contains(&s.token));
    assert!(!contains(&s.token[4..]));
}

#[tokio::test]
async fn database_files_hold_no_federated_token_nor_state() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    let limits = SessionLimits {
        idle: 60,
        absolute: 600,
    };
    let login = FederatedLogin {
        provider: "corp".to_owned(),
        subject: "s-1".to_owned(),
        roles: Vec::new(),
        acr: None,
        amr: Vec::new(),
        auth_time: None,
        sid: None,
        refresh_token: Some("rt-stored-to-refresh".to_owned()),
        id_token: None,
        refresh_at: None,
    };
    let s = store
        .create_federated_session(&login, 1_000, limits)
        .await
        .unwrap();
    let state = "c3RhdGUtb2YtdGhlLWZsb3ctMTIzNDU2Nzg5MA";
    let pending = PendingSignIn {
        provider: "corp".to_owned(),
        nonce: "nonce-kept-for-the-callback".to_owned(),
        code_verifier: "v".to_owned(),
        return_to: "/".to_owned(),
        acr_values: None,
        max_age: None,
        created_at: 1_000,
        expires_at: 1_600,
    };
    store.put_pending_sign_in(state, &pending).await.unwrap();
    let mut bytes = std::fs::read(dir.data().join("warden.db")).unwrap();
    bytes.extend(std::fs::read(dir.data().join("warden.db-wal")).unwrap_or_default());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    // What must be kept in clear is found, so finding nothing else means something.
    assert!(contains("rt-stored-to-refresh") && contains("nonce-kept-for-the-callback"));
    assert!(contains(&hash_token(&s.token)) && contains(&hash_token(state)));
    assert!(!contains(&s.token[4..]));
    assert!(!contains(state));
}
