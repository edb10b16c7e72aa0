//! Ending federated sessions: back-channel logout, and the listing and revocation shared
//! with password sessions.

use warden_store::{NewSession, Store, StoreError};

use super::federated::{federated_live, login};
use super::{Harness, LIMITS, T0, live, with_users};

/// A federated session at `provider` for `subject` during provider session `sid`.
async fn sign_in(store: &dyn Store, provider: &str, subject: &str, sid: &str) -> NewSession {
    let login = login(provider, subject, sid);
    store
        .create_federated_session(&login, T0, LIMITS)
        .await
        .unwrap()
}

/// The ids of `sessions`, sorted as `revoke_federated` returns them.
fn sorted_ids(sessions: &[&NewSession]) -> Vec<String> {
    let mut ids: Vec<String> = sessions.iter().map(|s| s.record.id.clone()).collect();
    ids.sort();
    ids
}

async fn alive(store: &dyn Store, sessions: &[&NewSession]) -> Vec<bool> {
    let mut out = Vec::new();
    for s in sessions {
        out.push(federated_live(store, &s.token, T0 + 1).await);
    }
    out
}

pub async fn logout_by_subject_sid_or_both(h: &impl Harness) {
    let store = h.store();
    let a1 = sign_in(store, "corp", "alice", "sid-1").await;
    let a2 = sign_in(store, "corp", "alice", "sid-2").await;
    let b1 = sign_in(store, "corp", "bob", "sid-1").await;
    let b3 = sign_in(store, "corp", "bob", "sid-3").await;
    let other = sign_in(store, "partner", "alice", "sid-1").await;
    let all = [&a1, &a2, &b1, &b3, &other];

    let both = store
        .revoke_federated("corp", Some("alice"), Some("sid-2"), T0)
        .await
        .unwrap();
    assert_eq!(both, sorted_ids(&[&a2]));
    assert_eq!(alive(store, &all).await, [true, false, true, true, true]);

    let by_sid = store
        .revoke_federated("corp", None, Some("sid-1"), T0)
        .await;
    assert_eq!(by_sid.unwrap(), sorted_ids(&[&a1, &b1]));
    assert_eq!(alive(store, &all).await, [false, false, false, true, true]);

    let by_subject = store.revoke_federated("corp", Some("bob"), None, T0).await;
    assert_eq!(by_subject.unwrap(), sorted_ids(&[&b3]));
    assert_eq!(alive(store, &all).await, [false, false, false, false, true]);

    // Nothing left to match: no ids, and the other provider's session still stands.
    let again = store
        .revoke_federated("corp", Some("alice"), None, T0)
        .await;
    assert!(again.unwrap().is_empty());
    let mismatch = store
        .revoke_federated("partner", Some("bob"), Some("sid-1"), T0)
        .await;
    assert!(mismatch.unwrap().is_empty());
    assert!(federated_live(store, &other.token, T0 + 1).await);
}

pub async fn logout_by_subject_ends_every_session_of_it(h: &impl Harness) {
    let store = h.store();
    let one = sign_in(store, "corp", "alice", "sid-1").await;
    let two = sign_in(store, "corp", "alice", "sid-2").await;
    let bob = sign_in(store, "corp", "bob", "sid-1").await;
    let ids = store
        .revoke_federated("corp", Some("alice"), None, T0)
        .await;
    assert_eq!(ids.unwrap(), sorted_ids(&[&one, &two]));
    assert_eq!(
        alive(store, &[&one, &two, &bob]).await,
        [false, false, true]
    );
}

pub async fn logout_naming_nothing_is_refused(h: &impl Harness) {
    let store = h.store();
    let s = sign_in(store, "corp", "alice", "sid-1").await;
    let err = store
        .revoke_federated("corp", None, None, T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LogoutWithoutTarget), "{err:?}");
    assert!(!err.is_unavailable());
    assert_eq!(h.int("SELECT count(*) FROM federated_sessions").await, 1);
    assert!(federated_live(store, &s.token, T0 + 1).await);
}

pub async fn list_and_revoke_cover_both_kinds(h: &impl Harness) {
    let store = with_users(h).await;
    let bob = store.create_session("bob", T0 + 20, LIMITS).await.unwrap();
    let fed = login("corp", "alice", "sid-1");
    let fed = store
        .create_federated_session(&fed, T0 + 5, LIMITS)
        .await
        .unwrap();
    let alice = store
        .create_session("alice", T0 + 10, LIMITS)
        .await
        .unwrap();

    let listed = store.list_sessions(T0 + 30).await.unwrap();
    let expected = [fed.record.clone(), alice.record.clone(), bob.record.clone()];
    assert_eq!(listed, expected);
    let providers: Vec<Option<&str>> = listed.iter().map(|s| s.provider.as_deref()).collect();
    assert_eq!(providers, [Some("corp"), None, None]);

    // Local users only: the federated subject named `alice` is someone else.
    assert_eq!(store.revoke_user_sessions("alice").await.unwrap(), 1);
    assert!(!live(store, &alice.token, T0 + 31).await);
    assert!(federated_live(store, &fed.token, T0 + 31).await);

    store.revoke_session(&fed.record.id).await.unwrap();
    assert!(!federated_live(store, &fed.token, T0 + 32).await);
    assert_eq!(store.list_sessions(T0 + 32).await.unwrap(), [bob.record]);
    let err = store.revoke_session(&fed.record.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownSession(id) if *id == fed.record.id),
        "{err:?}"
    );
}

pub async fn logout_spares_sessions_begun_after_the_token(h: &impl Harness) {
    let store = h.store();
    let before = sign_in(store, "corp", "alice", "sid-1").await;
    let login = login("corp", "alice", "sid-1");
    let after = store
        .create_federated_session(&login, T0 + 100, LIMITS)
        .await
        .unwrap();
    // A token issued at T0 (a replay, or one that crossed a new sign-in) ends only `before`.
    let ids = store
        .revoke_federated("corp", Some("alice"), None, T0 + 30)
        .await;
    assert_eq!(ids.unwrap(), sorted_ids(&[&before]));
    assert!(federated_live(store, &after.token, T0 + 101).await);
}
