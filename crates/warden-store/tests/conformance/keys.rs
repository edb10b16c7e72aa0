//! API keys.

use warden_store::StoreError;

use super::{Harness, roles};

pub async fn api_key_lifecycle(h: &impl Harness) {
    let store = h.store();
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
    let stored = h
        .int(&format!(
            "SELECT count(*) FROM api_keys WHERE key_hash = '{}'",
            key.hash
        ))
        .await;
    assert_eq!(stored, 1, "the key is stored by its hash");

    store.revoke_api_key(&key.id).await.unwrap();
    assert_eq!(store.check_api_key(&key.plaintext).await.unwrap(), None);
    assert!(store.list_api_keys().await.unwrap()[0].revoked);

    let err = store.revoke_api_key("000000000000").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownKey(id) if id == "000000000000"),
        "{err:?}"
    );
}

pub async fn unknown_and_malformed_keys_are_none(h: &impl Harness) {
    let store = h.store();
    let key = store.create_api_key("svc", &[]).await.unwrap();
    let other = warden_store::api_key::generate().unwrap();
    assert_eq!(store.check_api_key(&other.plaintext).await.unwrap(), None);
    assert_eq!(store.check_api_key("").await.unwrap(), None);
    assert_eq!(store.check_api_key(&key.hash).await.unwrap(), None);
    let truncated = &key.plaintext[..key.plaintext.len() - 1];
    assert_eq!(store.check_api_key(truncated).await.unwrap(), None);
    assert!(store.check_api_key(&key.plaintext).await.unwrap().is_some());
}
