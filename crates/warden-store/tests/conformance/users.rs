//! Users and passwords.

use warden_store::StoreError;

use super::{Harness, roles};

pub async fn empty_store_pings(h: &impl Harness) {
    let store = h.store();
    store.ping().await.unwrap();
    assert!(store.list_users().await.unwrap().is_empty());
    assert!(store.list_api_keys().await.unwrap().is_empty());
    assert!(store.list_sessions(0).await.unwrap().is_empty());
}

pub async fn add_and_list_users_sorted(h: &impl Harness) {
    let store = h.store();
    let before = warden_store::clock::now_unix();
    store
        .add_user("zoe", "pw-z", &roles(&["admin", "ops:read"]))
        .await
        .unwrap();
    store.add_user("alice", "pw-a", &[]).await.unwrap();
    store.add_user("Zed", "pw-Z", &[]).await.unwrap();
    let users = store.list_users().await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    // Byte order, whatever the database's collation.
    assert_eq!(names, ["Zed", "alice", "zoe"]);
    assert_eq!(users[1].roles, Vec::<String>::new());
    assert_eq!(users[2].roles, roles(&["admin", "ops:read"]));
    assert!(!users[2].disabled);
    let after = warden_store::clock::now_unix();
    assert!(users[2].created_at >= before && users[2].created_at <= after);
}

pub async fn duplicate_user_is_rejected(h: &impl Harness) {
    let store = h.store();
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

pub async fn invalid_names_and_roles_are_rejected(h: &impl Harness) {
    let store = h.store();
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

pub async fn check_password_cases(h: &impl Harness) {
    let store = h.store();
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

    for (name, password) in [
        ("dave", "correct horsE"),
        ("dave", ""),
        ("nobody", "correct horse"),
        ("DAVE", "correct horse"),
        // The dummy hash's password opens nothing.
        ("nobody", "warden-dummy-password"),
    ] {
        let found = store.check_password(name, password).await.unwrap();
        assert_eq!(found, None, "{name:?} {password:?}");
    }

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

pub async fn set_password_and_unknown_user(h: &impl Harness) {
    let store = h.store();
    store.add_user("erin", "old", &[]).await.unwrap();
    store.set_password("erin", "new").await.unwrap();
    assert_eq!(store.check_password("erin", "old").await.unwrap(), None);
    let user = store.check_password("erin", "new").await.unwrap().unwrap();
    assert_eq!(user.name, "erin");

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

pub async fn two_handles_see_each_other_immediately(h: &impl Harness) {
    let (cli, server) = (h.store(), h.second_store().await);

    cli.add_user("frank", "pw", &roles(&["r"])).await.unwrap();
    let user = server.check_password("frank", "pw").await.unwrap().unwrap();
    assert_eq!(user.name, "frank");

    cli.set_user_disabled("frank", true).await.unwrap();
    assert_eq!(server.check_password("frank", "pw").await.unwrap(), None);

    let key = cli.create_api_key("frank", &[]).await.unwrap();
    let found = server.check_api_key(&key.plaintext).await.unwrap().unwrap();
    assert_eq!(found.id, key.id);
    cli.revoke_api_key(&key.id).await.unwrap();
    assert_eq!(server.check_api_key(&key.plaintext).await.unwrap(), None);

    server.add_user("grace", "pw", &[]).await.unwrap();
    assert_eq!(cli.list_users().await.unwrap().len(), 2);
}
