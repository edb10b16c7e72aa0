//! The storage conformance suite: every case runs against every backend.
//!
//! A case is an `async fn` over a [`Harness`]: a fresh store on empty storage plus
//! a way to look at and change that storage behind the store's back. Each backend's
//! test file implements the harness and calls [`suite!`], which makes one
//! `#[tokio::test]` per case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod expiry;
pub mod federated;
pub mod keys;
pub mod logout;
pub mod pending;
pub mod sessions;
pub mod users;

use warden_store::{SessionLimits, Store};

/// A backend under test: one store on fresh storage, and raw access to that storage.
pub trait Harness: Sized {
    /// Name of the sessions table's user column (`user` is reserved in PostgreSQL).
    const USER_COLUMN: &'static str;

    /// Fresh, empty storage and a store on it.
    async fn new() -> Self;

    /// The store under test.
    fn store(&self) -> &dyn Store;

    /// A second, independent store on the same storage (another process, say).
    async fn second_store(&self) -> Box<dyn Store>;

    /// Runs `sql` on a connection of its own.
    async fn exec(&self, sql: &str);

    /// The integer `sql` selects (one row, one column).
    async fn int(&self, sql: &str) -> i64;

    /// Deletes `user`'s row but not its sessions, as if the foreign key did not exist.
    async fn orphan_sessions(&self, user: &str);
}

/// Sign-in time of most session cases.
pub const T0: i64 = 1_700_000_000;
/// Idle limit of [`LIMITS`].
pub const IDLE: i64 = 3_600;
/// Absolute limit of [`LIMITS`].
pub const ABSOLUTE: i64 = 86_400;
/// The limits most session cases use.
pub const LIMITS: SessionLimits = SessionLimits {
    idle: IDLE,
    absolute: ABSOLUTE,
};

/// Owned role list from string literals.
pub fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

/// The harness's store with users `alice` (role `dev`) and `bob`.
pub async fn with_users(h: &impl Harness) -> &dyn Store {
    let store = h.store();
    store
        .add_user("alice", "pw-a", &roles(&["dev"]))
        .await
        .unwrap();
    store.add_user("bob", "pw-b", &[]).await.unwrap();
    store
}

/// True if the token names a live session at `now`.
pub async fn live(store: &dyn Store, token: &str, now: i64) -> bool {
    store
        .check_session(token, now, LIMITS)
        .await
        .unwrap()
        .is_some()
}

/// `last_seen` as stored, read behind the store's back.
pub async fn stored_last_seen(h: &impl Harness, id: &str) -> i64 {
    h.int(&format!("SELECT last_seen FROM sessions WHERE id = '{id}'"))
        .await
}

/// One `#[tokio::test]` per listed case, in a module per case module.
macro_rules! cases {
    ($harness:ty; $($module:ident: $($case:ident),+ $(,)?;)+) => {
        $(mod $module {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let h = <$harness as $crate::conformance::Harness>::new().await;
                    $crate::conformance::$module::$case(&h).await;
                }
            )+
        })+
    };
}
pub(crate) use cases;

/// Instantiates the whole suite for one harness type.
macro_rules! suite {
    ($harness:ty) => {
        $crate::conformance::cases! { $harness;
            users:
                empty_store_pings,
                add_and_list_users_sorted,
                duplicate_user_is_rejected,
                invalid_names_and_roles_are_rejected,
                check_password_cases,
                set_password_and_unknown_user,
                two_handles_see_each_other_immediately;
            keys:
                api_key_lifecycle,
                unknown_and_malformed_keys_are_none;
            sessions:
                create_stores_only_the_hash,
                check_returns_record_and_user_and_refreshes_coarsely,
                foreign_and_malformed_tokens_are_none,
                revoke_by_id,
                revoke_user_sessions_counts,
                unknown_and_disabled_users_get_no_session,
                disabling_ends_sessions_for_good,
                disable_racing_sign_in_leaves_no_session,
                password_change_signs_out_everywhere,
                user_changes_apply_to_open_sessions;
            expiry:
                idle_limit_counts_from_last_seen,
                absolute_limit_holds_despite_activity,
                list_orders_by_creation_and_sign_in_sweeps_expired_rows;
            federated:
                create_and_check_round_trip_every_field,
                token_is_stored_only_hashed,
                federated_and_password_tokens_never_cross,
                idle_and_absolute_limits_apply,
                last_seen_moves_coarsely_and_never_back,
                sign_in_sweeps_expired_federated_sessions,
                update_tokens_replaces_or_keeps,
                claim_refresh_lets_one_caller_win,
                invalid_logins_are_refused;
            logout:
                logout_by_subject_sid_or_both,
                logout_by_subject_ends_every_session_of_it,
                logout_naming_nothing_is_refused,
                logout_spares_sessions_begun_after_the_token,
                list_and_revoke_cover_both_kinds;
            pending:
                put_then_take_once,
                expired_is_none_and_deleted,
                put_sweeps_expired_flows,
                state_is_stored_only_hashed,
                racing_takes_get_it_once;
        }
    };
}
pub(crate) use suite;
