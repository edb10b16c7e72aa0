//! Federated sessions (sign-in at an OpenID Provider): tokens, checks, expiry, refresh.

use warden_store::session::hash_token;
use warden_store::{FederatedLogin, SessionLimits, Store, StoreError};

use super::{ABSOLUTE, Harness, IDLE, LIMITS, T0, live, roles, with_users};

/// A login at `provider` for `subject` during provider session `sid`, every field set.
pub fn login(provider: &str, subject: &str, sid: &str) -> FederatedLogin {
    FederatedLogin {
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        roles: roles(&["dev", "team:ops"]),
        acr: Some("urn:mace:incommon:iap:silver".to_owned()),
        amr: roles(&["pwd", "otp"]),
        auth_time: Some(T0 - 5),
        sid: Some(sid.to_owned()),
        refresh_token: Some(format!("rt-{subject}-{sid}")),
        id_token: Some(format!("eyJhbGciOiJSUzI1NiJ9.{subject}.sig")),
        refresh_at: Some(T0 + 300),
    }
}

/// True if the token names a live federated session at `now`.
pub async fn federated_live(store: &dyn Store, token: &str, now: i64) -> bool {
    store
        .check_federated_session(token, now, LIMITS)
        .await
        .unwrap()
        .is_some()
}

/// `last_seen` of a federated session as stored, read behind the store's back.
async fn stored_last_seen(h: &impl Harness, id: &str) -> i64 {
    let sql = format!("SELECT last_seen FROM federated_sessions WHERE id = '{id}'");
    h.int(&sql).await
}

pub async fn create_and_check_round_trip_every_field(h: &impl Harness) {
    let store = h.store();
    let corp = login("corp", "248289761001", "sid-1");
    let s = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    assert!(s.token.starts_with("wdf_"), "{}", s.token);
    assert_eq!(s.token.len(), 4 + 43);
    assert_eq!(s.record.id.len(), 12);
    assert!(
        s.record
            .id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(
        (s.record.user.as_str(), s.record.provider.as_deref()),
        ("248289761001", Some("corp"))
    );
    assert_eq!((s.record.created_at, s.record.last_seen), (T0, T0));
    assert_eq!(s.record.expires_at, T0 + ABSOLUTE);

    let found = store
        .check_federated_session(&s.token, T0 + 1, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session, s.record);
    assert_eq!(found.login, corp);

    // The empty and absent values come back as they went in, not as "" or 0.
    let bare = FederatedLogin {
        roles: Vec::new(),
        acr: None,
        amr: Vec::new(),
        auth_time: None,
        sid: None,
        refresh_token: None,
        id_token: None,
        refresh_at: None,
        ..login("corp", "bare", "-")
    };
    let b = store
        .create_federated_session(&bare, T0, LIMITS)
        .await
        .unwrap();
    let found = store
        .check_federated_session(&b.token, T0 + 1, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.login, bare);
}

pub async fn token_is_stored_only_hashed(h: &impl Harness) {
    let store = h.store();
    let s = store
        .create_federated_session(&login("corp", "sub", "sid"), T0, LIMITS)
        .await
        .unwrap();
    let hash = hash_token(&s.token);
    let by_hash = format!(
        "SELECT count(*) FROM federated_sessions WHERE id = '{}' AND token_hash = '{hash}'",
        s.record.id
    );
    assert_eq!(h.int(&by_hash).await, 1);
    let secret = &s.token[4..];
    let anywhere = format!(
        "SELECT count(*) FROM federated_sessions WHERE id LIKE '%{secret}%'
         OR token_hash LIKE '%{secret}%' OR provider LIKE '%{secret}%'
         OR subject LIKE '%{secret}%' OR roles LIKE '%{secret}%' OR amr LIKE '%{secret}%'
         OR coalesce(acr, '') LIKE '%{secret}%' OR coalesce(sid, '') LIKE '%{secret}%'
         OR coalesce(refresh_token, '') LIKE '%{secret}%'
         OR coalesce(id_token, '') LIKE '%{secret}%'"
    );
    assert_eq!(h.int(&anywhere).await, 0);
    assert!(!format!("{s:?}").contains(&s.token));
}

pub async fn federated_and_password_tokens_never_cross(h: &impl Harness) {
    let store = with_users(h).await;
    let local = store.create_session("alice", T0, LIMITS).await.unwrap();
    let fed = store
        .create_federated_session(&login("corp", "alice", "sid"), T0, LIMITS)
        .await
        .unwrap();
    let key = store.create_api_key("alice", &[]).await.unwrap();
    assert!(live(store, &local.token, T0 + 1).await);
    assert!(federated_live(store, &fed.token, T0 + 1).await);

    assert!(
        !live(store, &fed.token, T0 + 1).await,
        "wdf_ passed as a session"
    );
    assert!(!federated_live(store, &local.token, T0 + 1).await);
    let as_local = format!("wds_{}", &fed.token[4..]);
    let as_federated = format!("wdf_{}", &local.token[4..]);
    assert!(!live(store, &as_local, T0 + 1).await);
    assert!(!federated_live(store, &as_federated, T0 + 1).await);
    for bad in [
        "",
        "wdf_",
        &key.plaintext,
        &fed.token[4..],
        &hash_token(&fed.token),
    ] {
        assert!(!federated_live(store, bad, T0 + 1).await, "{bad:?}");
    }
    assert_eq!(store.check_api_key(&fed.token).await.unwrap(), None);
}

pub async fn idle_and_absolute_limits_apply(h: &impl Harness) {
    let store = h.store();
    let corp = login("corp", "sub", "sid");
    let idle = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    assert!(federated_live(store, &idle.token, T0 + IDLE - 1).await);
    // Alive only because the previous check moved `last_seen`.
    assert!(federated_live(store, &idle.token, T0 + 2 * IDLE - 2).await);
    assert!(!federated_live(store, &idle.token, T0 + 3 * IDLE - 2).await);

    let busy = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    let mut now = T0;
    while now < T0 + ABSOLUTE - 1 {
        now = (now + IDLE - 600).min(T0 + ABSOLUTE - 1);
        assert!(
            federated_live(store, &busy.token, now).await,
            "at {}",
            now - T0
        );
    }
    assert!(!federated_live(store, &busy.token, T0 + ABSOLUTE).await);
    let listed = store.list_sessions(T0 + ABSOLUTE).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

pub async fn last_seen_moves_coarsely_and_never_back(h: &impl Harness) {
    let store = h.store();
    let s = store
        .create_federated_session(&login("corp", "sub", "sid"), T0, LIMITS)
        .await
        .unwrap();
    let at = |now| store.check_federated_session(&s.token, now, LIMITS);
    assert_eq!(at(T0 + 29).await.unwrap().unwrap().session.last_seen, T0);
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0);
    assert_eq!(
        at(T0 + 30).await.unwrap().unwrap().session.last_seen,
        T0 + 30
    );
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0 + 30);
    // An earlier `now` (a slower request) never moves it back.
    assert_eq!(
        at(T0 + 5).await.unwrap().unwrap().session.last_seen,
        T0 + 30
    );
    assert_eq!(stored_last_seen(h, &s.record.id).await, T0 + 30);
}

pub async fn sign_in_sweeps_expired_federated_sessions(h: &impl Harness) {
    let store = h.store();
    let short = SessionLimits {
        idle: IDLE,
        absolute: 100,
    };
    let corp = login("corp", "sub", "sid");
    let gone = store
        .create_federated_session(&corp, T0, short)
        .await
        .unwrap();
    let kept = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    let count = "SELECT count(*) FROM federated_sessions";
    assert_eq!(h.int(count).await, 2);
    store
        .create_federated_session(&corp, T0 + 100, LIMITS)
        .await
        .unwrap();
    assert_eq!(
        h.int(count).await,
        2,
        "the expired row is deleted, the new one added"
    );
    let err = store.revoke_session(&gone.record.id).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownSession(_)), "{err:?}");
    assert!(federated_live(store, &kept.token, T0 + 101).await);
}

pub async fn claim_refresh_lets_one_caller_win(h: &impl Harness) {
    let store = h.store();
    let corp = login("corp", "sub", "sid"); // refresh_at T0 + 300
    let s = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    let id = &s.record.id;
    assert!(
        !store.claim_refresh(id, T0 + 299, T0 + 330).await.unwrap(),
        "not due yet"
    );
    // Two replicas find it due at once: exactly one gets the turn.
    let (a, b) = tokio::join!(
        store.claim_refresh(id, T0 + 300, T0 + 330),
        store.claim_refresh(id, T0 + 300, T0 + 330)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1,
        "one winner"
    );
    let held = store
        .check_federated_session(&s.token, T0 + 301, LIMITS)
        .await
        .unwrap();
    assert_eq!(
        held.unwrap().login.refresh_at,
        Some(T0 + 330),
        "held while the winner refreshes"
    );
    assert!(
        !store.claim_refresh(id, T0 + 310, T0 + 340).await.unwrap(),
        "still held"
    );
    assert!(
        store.claim_refresh(id, T0 + 330, T0 + 360).await.unwrap(),
        "due again after the hold"
    );
    // No refresh token, no refresh: a cleared refresh_at is never claimed.
    store
        .update_federated_tokens(id, None, None, None, &[])
        .await
        .unwrap();
    assert!(
        !store
            .claim_refresh(id, T0 + 10_000, T0 + 10_030)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_refresh("000000000000", T0 + 10_000, T0 + 10_030)
            .await
            .unwrap()
    );
}

pub async fn update_tokens_replaces_or_keeps(h: &impl Harness) {
    let store = h.store();
    let corp = login("corp", "sub", "sid");
    let s = store
        .create_federated_session(&corp, T0, LIMITS)
        .await
        .unwrap();
    let id = &s.record.id;
    let now = |t| store.check_federated_session(&s.token, t, LIMITS);

    let admin = roles(&["admin"]);
    store
        .update_federated_tokens(id, Some("rt-2"), Some("idt-2"), Some(T0 + 900), &admin)
        .await
        .unwrap();
    let after = now(T0 + 1).await.unwrap().unwrap().login;
    let expected = FederatedLogin {
        roles: admin.clone(),
        refresh_token: Some("rt-2".to_owned()),
        id_token: Some("idt-2".to_owned()),
        refresh_at: Some(T0 + 900),
        ..corp.clone()
    };
    assert_eq!(after, expected);

    // A provider that does not rotate: the stored tokens stay, refresh_at is cleared.
    store
        .update_federated_tokens(id, None, None, None, &[])
        .await
        .unwrap();
    let after = now(T0 + 2).await.unwrap().unwrap().login;
    let expected = FederatedLogin {
        roles: Vec::new(),
        refresh_at: None,
        ..expected
    };
    assert_eq!(after, expected);

    let err = store
        .update_federated_tokens(id, None, None, None, &roles(&["not a role"]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRole(_)), "{err:?}");
    assert_eq!(now(T0 + 3).await.unwrap().unwrap().login, expected);

    let err = store
        .update_federated_tokens("0123456789ab", Some("rt"), None, None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownSession(i) if i == "0123456789ab"),
        "{err:?}"
    );
    store.revoke_session(id).await.unwrap();
    let err = store
        .update_federated_tokens(id, None, None, None, &[])
        .await;
    assert!(matches!(err, Err(StoreError::UnknownSession(_))), "{err:?}");
}

pub async fn invalid_logins_are_refused(h: &impl Harness) {
    let store = h.store();
    // Migrated first: a refused login never reaches the database.
    store.ping().await.unwrap();
    let bad_role = FederatedLogin {
        roles: roles(&["a/b"]),
        ..login("corp", "sub", "sid")
    };
    let err = store.create_federated_session(&bad_role, T0, LIMITS).await;
    assert!(matches!(err, Err(StoreError::InvalidRole(_))), "{err:?}");
    let no_subject = login("corp", "", "sid");
    let err = store
        .create_federated_session(&no_subject, T0, LIMITS)
        .await;
    assert!(matches!(err, Err(StoreError::InvalidName(_))), "{err:?}");
    let bad_provider = login("co rp", "sub", "sid");
    let err = store
        .create_federated_session(&bad_provider, T0, LIMITS)
        .await;
    assert!(matches!(err, Err(StoreError::InvalidName(_))), "{err:?}");
    assert_eq!(h.int("SELECT count(*) FROM federated_sessions").await, 0);
}
