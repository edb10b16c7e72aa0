//! Browser sessions: tokens, checks, revocation, user changes.

use warden_store::StoreError;
use warden_store::session::hash_token;

use super::{ABSOLUTE, Harness, LIMITS, T0, live, roles, stored_last_seen, with_users};

pub async fn create_stores_only_the_hash<H: Harness>(h: &H) {
    let store = with_users(h).await;
    let s = store.create_session("alice", T0, LIMITS).await.unwrap();
    assert!(s.token.starts_with("wds_"), "{}", s.token);
    assert_eq!(s.token.len(), 4 + 43);
    assert_eq!(s.record.id.len(), 12);
    assert!(
        s.record
            .id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(s.record.user, "alice");
    assert_eq!((s.record.created_at, s.record.last_seen), (T0, T0));
    assert_eq!(s.record.expires_at, T0 + ABSOLUTE);
    assert!(!format!("{s:?}").contains(&s.token));

    let hash = hash_token(&s.token);
    assert_eq!(hash.len(), 64);
    let matching = format!(
        "SELECT count(*) FROM sessions WHERE id = '{}' AND token_hash = '{hash}'
         AND {} = 'alice' AND created_at = {T0} AND last_seen = {T0} AND expires_at = {}",
        s.record.id,
        H::USER_COLUMN,
        T0 + ABSOLUTE
    );
    assert_eq!(h.int(&matching).await, 1);
    assert_eq!(h.int("SELECT count(*) FROM sessions").await, 1);
}

pub async fn check_returns_record_and_user_and_refreshes_coarsely(h: &impl Harness) {
    let store = with_users(h).await;
    let s = store.create_session("alice", T0, LIMITS).await.unwrap();

    let (record, user) = store
        .check_session(&s.token, T0 + 29, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record, s.record);
    assert_eq!(
        (user.name.as_str(), user.roles.clone(), user.disabled),
        ("alice", roles(&["dev"]), false)
    );
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0);

    let (record, _) = store
        .check_session(&s.token, T0 + 30, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.last_seen, T0 + 30);
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0 + 30);
    // An earlier `now` (a slower request) never moves it back.
    let (record, _) = store
        .check_session(&s.token, T0 + 5, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.last_seen, T0 + 30);
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0 + 30);
}

pub async fn foreign_and_malformed_tokens_are_none(h: &impl Harness) {
    let store = with_users(h).await;
    let s = store.create_session("alice", T0, LIMITS).await.unwrap();
    let key = store.create_api_key("alice", &[]).await.unwrap();
    let mut flipped = s.token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let without_prefix = s.token[4..].to_owned();
    let rewritten = format!("wdn_{without_prefix}");
    let hash = hash_token(&s.token);
    for bad in [
        "",
        "wds_",
        &key.plaintext,
        &flipped,
        &without_prefix,
        &rewritten,
        &hash,
        &s.record.id,
    ] {
        assert!(!live(store, bad, T0 + 1).await, "{bad:?}");
    }
    assert!(live(store, &s.token, T0 + 1).await);
    // A session token is not an API key either.
    assert_eq!(store.check_api_key(&s.token).await.unwrap(), None);
}

pub async fn revoke_by_id(h: &impl Harness) {
    let store = with_users(h).await;
    let one = store.create_session("alice", T0, LIMITS).await.unwrap();
    let two = store.create_session("alice", T0, LIMITS).await.unwrap();
    store.revoke_session(&one.record.id).await.unwrap();
    assert!(!live(store, &one.token, T0 + 1).await);
    assert!(live(store, &two.token, T0 + 1).await);
    assert_eq!(store.list_sessions(T0).await.unwrap(), [two.record]);

    let err = store.revoke_session(&one.record.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownSession(id) if *id == one.record.id),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("unknown session: {}", one.record.id)
    );
    assert!(!err.is_unavailable());
}

pub async fn revoke_user_sessions_counts(h: &impl Harness) {
    let store = with_users(h).await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(store.create_session("alice", T0, LIMITS).await.unwrap());
    }
    let bob = store.create_session("bob", T0, LIMITS).await.unwrap();
    assert_eq!(store.revoke_user_sessions("alice").await.unwrap(), 3);
    assert_eq!(store.revoke_user_sessions("alice").await.unwrap(), 0);
    assert_eq!(store.revoke_user_sessions("ghost").await.unwrap(), 0);
    for s in &alice {
        assert!(!live(store, &s.token, T0 + 1).await);
    }
    assert!(live(store, &bob.token, T0 + 1).await);
}

pub async fn unknown_and_disabled_users_get_no_session(h: &impl Harness) {
    let store = with_users(h).await;
    let err = store.create_session("ghost", T0, LIMITS).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownUser(n) if n == "ghost"),
        "{err:?}"
    );
    store.set_user_disabled("bob", true).await.unwrap();
    let err = store.create_session("bob", T0, LIMITS).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UserDisabled(n) if n == "bob"),
        "{err:?}"
    );
    assert!(store.list_sessions(T0).await.unwrap().is_empty());
}

pub async fn disabling_ends_sessions_for_good(h: &impl Harness) {
    let store = with_users(h).await;
    let alice = store.create_session("alice", T0, LIMITS).await.unwrap();
    let bob = store.create_session("bob", T0, LIMITS).await.unwrap();
    store.set_user_disabled("alice", true).await.unwrap();
    assert!(!live(store, &alice.token, T0 + 1).await);
    let only_bob = std::slice::from_ref(&bob.record);
    assert_eq!(store.list_sessions(T0).await.unwrap(), only_bob);

    store.set_user_disabled("alice", false).await.unwrap();
    assert_eq!(store.list_sessions(T0).await.unwrap(), only_bob);
    assert!(
        !live(store, &alice.token, T0 + 2).await,
        "re-enabling revived a session"
    );
    assert!(live(store, &bob.token, T0 + 2).await);
    // Enabling an enabled user touches nobody's sessions.
    store.set_user_disabled("bob", false).await.unwrap();
    assert!(live(store, &bob.token, T0 + 3).await);
}

/// A sign-in racing a disable either fails or is ended by it: none survives re-enabling.
pub async fn disable_racing_sign_in_leaves_no_session(h: &impl Harness) {
    let store = with_users(h).await;
    let other = h.second_store().await;
    for round in 0..20 {
        let (signed_in, disabled) = tokio::join!(
            store.create_session("alice", T0, LIMITS),
            other.set_user_disabled("alice", true),
        );
        disabled.unwrap();
        if let Err(err) = &signed_in {
            assert!(matches!(err, StoreError::UserDisabled(_)), "{err:?}");
        }
        other.set_user_disabled("alice", false).await.unwrap();
        let left = store.list_sessions(T0).await.unwrap();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
}

pub async fn password_change_signs_out_everywhere(h: &impl Harness) {
    let store = with_users(h).await;
    let one = store.create_session("alice", T0, LIMITS).await.unwrap();
    let two = store.create_session("alice", T0, LIMITS).await.unwrap();
    let bob = store.create_session("bob", T0, LIMITS).await.unwrap();
    store.set_password("alice", "new").await.unwrap();
    assert!(!live(store, &one.token, T0 + 1).await);
    assert!(!live(store, &two.token, T0 + 1).await);
    assert!(live(store, &bob.token, T0 + 1).await);
    let fresh = store.create_session("alice", T0 + 2, LIMITS).await.unwrap();
    assert!(live(store, &fresh.token, T0 + 3).await);
}

pub async fn user_changes_apply_to_open_sessions(h: &impl Harness) {
    let store = with_users(h).await;
    let s = store.create_session("alice", T0, LIMITS).await.unwrap();
    h.exec("UPDATE users SET roles = 'admin\nops' WHERE name = 'alice'")
        .await;
    let (_, user) = store
        .check_session(&s.token, T0 + 1, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.roles, roles(&["admin", "ops"]));

    // A disabled flag set behind the store's back still refuses the session.
    h.exec("UPDATE users SET disabled = TRUE WHERE name = 'alice'")
        .await;
    assert!(!live(store, &s.token, T0 + 2).await);
    h.exec("UPDATE users SET disabled = FALSE WHERE name = 'alice'")
        .await;
    assert!(live(store, &s.token, T0 + 3).await);

    // A session whose user row vanished is refused too.
    h.orphan_sessions("alice").await;
    assert_eq!(store.list_sessions(T0).await.unwrap().len(), 1);
    assert!(!live(store, &s.token, T0 + 4).await);
}
