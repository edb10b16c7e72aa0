//! Integration tests against a real SQLite file in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TempDir, open, roles, set_user_version};
use warden_store::{SqliteStore, Store, StoreError};

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
async fn add_and_list_users_sorted() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    let before = warden_store::clock::now_unix();
    store
        .add_user("zoe", "pw-z", &roles(&["admin", "ops:read"]))
        .await
        .unwrap();
    store.add_user("alice", "pw-a", &[]).await.unwrap();
    let users = store.list_users().await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "zoe"]);
    assert_eq!(users[0].roles, Vec::<String>::new());
    assert_eq!(users[1].roles, roles(&["admin", "ops:read"]));
    assert!(!users[1].disabled);
    let after = warden_store::clock::now_unix();
    assert!(users[1].created_at >= before && users[1].created_at <= after);
}

#[tokio::test]
async fn duplicate_user_is_rejected() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    store.add_user("bob", "one", &[]).await.unwrap();
    let err = store.add_user("bob", "two", &[]).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UserExists(n) if n == "bob"),
        "{err:?}"
    );
    assert!(!err.is_unavailable());
    // The original password is untouched.
    assert!(store.check_password("bob", "one").await.unwrap().is_some());
    assert!(store.check_password("bob", "two").await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_names_and_roles_are_rejected() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    for bad in ["a:b", "", "a b", "tab\there", &"x".repeat(65)] {
        let err = store.add_user(bad, "pw", &[]).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidName(n) if n == bad),
            "{bad:?}: {err:?}"
        );
    }
    let err = store
        .add_user("carol", "pw", &roles(&["ok", "not ok"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidRole(r) if r == "not ok"),
        "{err:?}"
    );
    let err = store
        .create_api_key("svc", &roles(&[""]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRole(_)), "{err:?}");
    let err = store.create_api_key("has space", &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidName(_)), "{err:?}");
    assert!(store.list_users().await.unwrap().is_empty());
    assert!(store.list_api_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn check_password_cases() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    store
        .add_user("dave", "correct horse", &roles(&["dev"]))
        .await
        .unwrap();

    let user = store
        .check_password("dave", "correct horse")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "dave");
    assert_eq!(user.roles, roles(&["dev"]));
    assert!(!user.disabled);

    assert_eq!(
        store.check_password("dave", "correct horsE").await.unwrap(),
        None
    );
    assert_eq!(store.check_password("dave", "").await.unwrap(), None);
    assert_eq!(
        store
            .check_password("nobody", "correct horse")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.check_password("DAVE", "correct horse").await.unwrap(),
        None
    );

    store.set_user_disabled("dave", true).await.unwrap();
    assert_eq!(
        store.check_password("dave", "correct horse").await.unwrap(),
        None
    );
    assert!(store.list_users().await.unwrap()[0].disabled);

    store.set_user_disabled("dave", false).await.unwrap();
    let user = store
        .check_password("dave", "correct horse")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "dave");
    assert!(!user.disabled);
}

#[tokio::test]
async fn set_password_and_unknown_user() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    store.add_user("erin", "old", &[]).await.unwrap();
    store.set_password("erin", "new").await.unwrap();
    assert_eq!(store.check_password("erin", "old").await.unwrap(), None);
    assert_eq!(
        store
            .check_password("erin", "new")
            .await
            .unwrap()
            .unwrap()
            .name,
        "erin"
    );

    let err = store.set_password("ghost", "x").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownUser(n) if n == "ghost"),
        "{err:?}"
    );
    let err = store.set_user_disabled("ghost", true).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownUser(n) if n == "ghost"),
        "{err:?}"
    );
}

#[tokio::test]
async fn api_key_lifecycle() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    let key = store
        .create_api_key("ci-bot", &roles(&["deploy"]))
        .await
        .unwrap();
    assert!(key.plaintext.starts_with("wdn_"));
    assert_eq!(key.plaintext.len(), 4 + 43);
    assert_eq!(key.id.len(), 12);
    assert_ne!(key.hash, key.plaintext);
    assert_eq!(key.hash, warden_store::api_key::hash_key(&key.plaintext));
    assert_eq!(key.hash.len(), 64);

    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, key.id);
    assert_eq!(listed[0].name, "ci-bot");
    assert_eq!(listed[0].roles, roles(&["deploy"]));
    assert!(!listed[0].revoked);

    let found = store.check_api_key(&key.plaintext).await.unwrap().unwrap();
    assert_eq!(found, listed[0]);

    store.revoke_api_key(&key.id).await.unwrap();
    assert_eq!(store.check_api_key(&key.plaintext).await.unwrap(), None);
    assert!(store.list_api_keys().await.unwrap()[0].revoked);

    let err = store.revoke_api_key("000000000000").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownKey(id) if id == "000000000000"),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_none() {
    let dir = TempDir::new();
    let store = open(&dir).await;
    let key = store.create_api_key("svc", &[]).await.unwrap();
    let other = warden_store::api_key::generate().unwrap();
    assert_eq!(store.check_api_key(&other.plaintext).await.unwrap(), None);
    assert_eq!(store.check_api_key("").await.unwrap(), None);
    assert_eq!(store.check_api_key(&key.hash).await.unwrap(), None);
    let truncated = &key.plaintext[..key.plaintext.len() - 1];
    assert_eq!(store.check_api_key(truncated).await.unwrap(), None);
    assert!(store.check_api_key(&key.plaintext).await.unwrap().is_some());
}

#[tokio::test]
async fn two_handles_see_each_other_immediately() {
    let dir = TempDir::new();
    let (cli, server) = tokio::join!(open(&dir), open(&dir));

    cli.add_user("frank", "pw", &roles(&["r"])).await.unwrap();
    assert_eq!(
        server
            .check_password("frank", "pw")
            .await
            .unwrap()
            .unwrap()
            .name,
        "frank"
    );

    cli.set_user_disabled("frank", true).await.unwrap();
    assert_eq!(server.check_password("frank", "pw").await.unwrap(), None);

    let key = cli.create_api_key("frank", &[]).await.unwrap();
    assert_eq!(
        server
            .check_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap()
            .id,
        key.id
    );
    cli.revoke_api_key(&key.id).await.unwrap();
    assert_eq!(server.check_api_key(&key.plaintext).await.unwrap(), None);

    server.add_user("grace", "pw", &[]).await.unwrap();
    assert_eq!(cli.list_users().await.unwrap().len(), 2);
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
