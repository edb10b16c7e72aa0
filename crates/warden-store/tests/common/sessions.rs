//! Shared setup for the session tests.

use warden_store::{SessionLimits, SqliteStore, Store};

use super::{TempDir, connect, open, roles};

pub const T0: i64 = 1_700_000_000;
pub const IDLE: i64 = 3_600;
pub const ABSOLUTE: i64 = 86_400;
pub const LIMITS: SessionLimits = SessionLimits {
    idle: IDLE,
    absolute: ABSOLUTE,
};

/// A store with users `alice` (role `dev`) and `bob`.
pub async fn store(dir: &TempDir) -> SqliteStore {
    let store = open(dir).await;
    store
        .add_user("alice", "pw-a", &roles(&["dev"]))
        .await
        .unwrap();
    store.add_user("bob", "pw-b", &[]).await.unwrap();
    store
}

/// True if the token names a live session at `now`.
pub async fn live(store: &SqliteStore, token: &str, now: i64) -> bool {
    store
        .check_session(token, now, LIMITS)
        .await
        .unwrap()
        .is_some()
}

/// `last_seen` as stored, read behind the store's back.
pub async fn stored_last_seen(dir: &TempDir, id: &str) -> i64 {
    sqlx::query_scalar("SELECT last_seen FROM sessions WHERE id = ?")
        .bind(id)
        .fetch_one(&mut connect(dir).await)
        .await
        .unwrap()
}
