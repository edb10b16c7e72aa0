//! Pending sign-ins: the one-time state of an authorization-code flow.

use warden_store::PendingSignIn;
use warden_store::session::hash_token;

use super::{Harness, T0};

/// How long the test flows stay acceptable.
const TTL: i64 = 600;

/// A flow to `provider` started at `created_at`, every field set.
fn pending(provider: &str, created_at: i64) -> PendingSignIn {
    PendingSignIn {
        provider: provider.to_owned(),
        nonce: format!("nonce-{provider}-{created_at}"),
        code_verifier: format!("verifier-{provider}-{created_at}-dBjftJeZ4CVP"),
        return_to: "/app/reports?month=5".to_owned(),
        acr_values: Some("urn:mace:incommon:iap:silver".to_owned()),
        max_age: Some(300),
        created_at,
        expires_at: created_at + TTL,
    }
}

const COUNT: &str = "SELECT count(*) FROM oidc_pending";

pub async fn put_then_take_once(h: &impl Harness) {
    let store = h.store();
    let corp = pending("corp", T0);
    let bare = PendingSignIn {
        acr_values: None,
        max_age: None,
        ..pending("partner", T0)
    };
    store
        .put_pending_sign_in("state-corp", &corp)
        .await
        .unwrap();
    store
        .put_pending_sign_in("state-bare", &bare)
        .await
        .unwrap();
    assert_eq!(h.int(COUNT).await, 2);

    let taken = store.take_pending_sign_in("state-corp", T0 + 1).await;
    assert_eq!(taken.unwrap(), Some(corp));
    // A replayed callback finds nothing.
    let replay = store.take_pending_sign_in("state-corp", T0 + 2).await;
    assert_eq!(replay.unwrap(), None);
    let unknown = store.take_pending_sign_in("state-other", T0 + 2).await;
    assert_eq!(unknown.unwrap(), None);
    assert_eq!(h.int(COUNT).await, 1);

    let taken = store.take_pending_sign_in("state-bare", T0 + TTL - 1).await;
    assert_eq!(taken.unwrap(), Some(bare));
    assert_eq!(h.int(COUNT).await, 0);
}

pub async fn expired_is_none_and_deleted(h: &impl Harness) {
    let store = h.store();
    store
        .put_pending_sign_in("late", &pending("corp", T0))
        .await
        .unwrap();
    let taken = store.take_pending_sign_in("late", T0 + TTL).await;
    assert_eq!(taken.unwrap(), None);
    assert_eq!(
        h.int(COUNT).await,
        0,
        "the expired row is deleted by the take"
    );
    // Gone for good: not even a take with an earlier clock finds it.
    let taken = store.take_pending_sign_in("late", T0 + 1).await;
    assert_eq!(taken.unwrap(), None);
}

pub async fn put_sweeps_expired_flows(h: &impl Harness) {
    let store = h.store();
    store
        .put_pending_sign_in("old", &pending("corp", T0))
        .await
        .unwrap();
    store
        .put_pending_sign_in("mid", &pending("corp", T0 + 10))
        .await
        .unwrap();
    assert_eq!(h.int(COUNT).await, 2);
    let fresh = pending("corp", T0 + TTL);
    store.put_pending_sign_in("new", &fresh).await.unwrap();
    assert_eq!(
        h.int(COUNT).await,
        2,
        "only the flow expired at T0 + TTL is swept"
    );
    let old = store.take_pending_sign_in("old", T0 + 1).await;
    assert_eq!(old.unwrap(), None);
    let mid = store.take_pending_sign_in("mid", T0 + TTL).await;
    assert_eq!(mid.unwrap(), Some(pending("corp", T0 + 10)));
}

pub async fn state_is_stored_only_hashed(h: &impl Harness) {
    let store = h.store();
    let state = "Zm9vYmFyLXN0YXRlLXZhbHVl";
    let flow = pending("corp", T0);
    store.put_pending_sign_in(state, &flow).await.unwrap();
    let by_hash = format!(
        "SELECT count(*) FROM oidc_pending WHERE state_hash = '{}'",
        hash_token(state)
    );
    assert_eq!(h.int(&by_hash).await, 1);
    let anywhere = |needle: &str| {
        format!(
            "SELECT count(*) FROM oidc_pending WHERE state_hash LIKE '%{needle}%'
             OR provider LIKE '%{needle}%' OR nonce LIKE '%{needle}%'
             OR code_verifier LIKE '%{needle}%' OR return_to LIKE '%{needle}%'
             OR coalesce(acr_values, '') LIKE '%{needle}%'
             OR CAST(max_age AS TEXT) LIKE '%{needle}%'
             OR CAST(created_at AS TEXT) LIKE '%{needle}%'
             OR CAST(expires_at AS TEXT) LIKE '%{needle}%'"
        )
    };
    // The same query finds a value that is stored, so finding nothing means something.
    assert_eq!(h.int(&anywhere(&flow.nonce)).await, 1);
    assert_eq!(h.int(&anywhere(state)).await, 0);
}

/// Two callbacks with the same state, on two stores at once: exactly one gets the flow.
pub async fn racing_takes_get_it_once(h: &impl Harness) {
    let store = h.store();
    let other = h.second_store().await;
    for round in 0..20 {
        let state = format!("race-{round}");
        store
            .put_pending_sign_in(&state, &pending("corp", T0))
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            store.take_pending_sign_in(&state, T0 + 1),
            other.take_pending_sign_in(&state, T0 + 1),
        );
        let won = [a.unwrap(), b.unwrap()].into_iter().flatten().count();
        assert_eq!(won, 1, "round {round}");
    }
    assert_eq!(h.int(COUNT).await, 0);
}
