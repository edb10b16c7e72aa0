//! Session expiry: idle and absolute limits, listing, sweeping.

use warden_store::{SessionLimits, StoreError};

use super::{ABSOLUTE, Harness, IDLE, LIMITS, T0, live, stored_last_seen, with_users};

pub async fn idle_limit_counts_from_last_seen(h: &impl Harness) {
    let store = with_users(h).await;
    let a = store.create_session("alice", T0, LIMITS).await.unwrap();
    assert!(!live(store, &a.token, T0 + IDLE).await);

    let b = store.create_session("alice", T0, LIMITS).await.unwrap();
    let (record, _) = store
        .check_session(&b.token, T0 + IDLE - 1, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.last_seen, T0 + IDLE - 1);
    // Alive only because the previous check moved `last_seen`.
    assert!(live(store, &b.token, T0 + 2 * IDLE - 2).await);
    assert_eq!(stored_last_seen(h, &b.record.id).await, T0 + 2 * IDLE - 2);
    assert!(!live(store, &b.token, T0 + 3 * IDLE - 2).await);
}

pub async fn absolute_limit_holds_despite_activity(h: &impl Harness) {
    let store = with_users(h).await;
    let s = store.create_session("alice", T0, LIMITS).await.unwrap();
    let mut now = T0;
    while now < T0 + ABSOLUTE - 1 {
        now = (now + IDLE - 600).min(T0 + ABSOLUTE - 1);
        assert!(live(store, &s.token, now).await, "at {}", now - T0);
    }
    assert_eq!(
        store.list_sessions(T0 + ABSOLUTE - 1).await.unwrap().len(),
        1
    );
    assert!(!live(store, &s.token, T0 + ABSOLUTE).await);
    assert!(store.list_sessions(T0 + ABSOLUTE).await.unwrap().is_empty());
}

pub async fn list_orders_by_creation_and_sign_in_sweeps_expired_rows(h: &impl Harness) {
    let store = with_users(h).await;
    let short = SessionLimits {
        idle: IDLE,
        absolute: 100,
    };
    let gone = store.create_session("bob", T0, short).await.unwrap();
    let late = store
        .create_session("alice", T0 + 50, LIMITS)
        .await
        .unwrap();
    let early = store.create_session("bob", T0 + 10, LIMITS).await.unwrap();
    let ids: Vec<String> = store
        .list_sessions(T0 + 99)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        ids,
        [
            gone.record.id.clone(),
            early.record.id.clone(),
            late.record.id.clone()
        ]
    );
    assert_eq!(
        store.list_sessions(T0 + 100).await.unwrap(),
        [early.record.clone(), late.record]
    );

    let count = "SELECT count(*) FROM sessions";
    assert_eq!(h.int(count).await, 3);
    store
        .create_session("alice", T0 + 100, LIMITS)
        .await
        .unwrap();
    assert_eq!(
        h.int(count).await,
        3,
        "the expired row is deleted, the new one added"
    );
    let err = store.revoke_session(&gone.record.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownSession(id) if *id == gone.record.id),
        "{err:?}"
    );
}
