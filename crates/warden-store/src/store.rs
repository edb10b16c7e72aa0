//! The storage trait the server and CLI program against.

use async_trait::async_trait;

use crate::{
    ApiKeyRecord, FederatedLogin, FederatedSession, NewApiKey, NewSession, PendingSignIn,
    SessionLimits, SessionRecord, StoreError, UserRecord,
};

/// Users, API keys and sessions; implementations must reflect writes immediately.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates a user; `UserExists` if the name is taken.
    async fn add_user(
        &self,
        name: &str,
        password: &str,
        roles: &[String],
    ) -> Result<(), StoreError>;

    /// All users, ordered by name.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Disables or re-enables a user, ending its sessions on disable; `UnknownUser` if absent.
    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError>;

    /// Replaces a user's password and ends its sessions; `UnknownUser` if absent.
    async fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError>;

    /// The user if it exists, is enabled and the password matches; same cost and `None` otherwise.
    async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Creates an API key for principal `name`; only its hash is stored.
    async fn create_api_key(&self, name: &str, roles: &[String]) -> Result<NewApiKey, StoreError>;

    /// All API keys (revoked included), oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes a key by id; `UnknownKey` if absent.
    async fn revoke_api_key(&self, id: &str) -> Result<(), StoreError>;

    /// The key's record if the plaintext is known and not revoked.
    async fn check_api_key(&self, plaintext: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Opens a session for an existing, enabled user; only the token's hash is stored.
    ///
    /// `UnknownUser` if absent, `UserDisabled` if disabled. Expires at `now + limits.absolute`.
    async fn create_session(
        &self,
        user: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError>;

    /// The session and its user (current roles) if the token is live; refreshes `last_seen`.
    ///
    /// `None` if unknown, revoked, past either limit, or the user is gone or disabled.
    async fn check_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;

    /// Sessions of both kinds not past their absolute expiry at `now`, oldest first.
    ///
    /// A federated session lists its subject as `user` and its provider as `provider`.
    async fn list_sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Ends a session of either kind by id; `UnknownSession` if absent.
    async fn revoke_session(&self, id: &str) -> Result<(), StoreError>;

    /// Ends every password session of a local user and returns how many there were.
    async fn revoke_user_sessions(&self, user: &str) -> Result<u64, StoreError>;

    /// Opens a session for a sign-in at a provider; only the `wdf_` token's hash is stored.
    ///
    /// Expires at `now + limits.absolute`; also deletes federated sessions expired at `now`.
    async fn create_federated_session(
        &self,
        login: &FederatedLogin,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError>;

    /// The federated session if the token is live; refreshes `last_seen` like `check_session`.
    ///
    /// `None` if the token is unknown (a `wds_` token always is) or past either limit.
    async fn check_federated_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<FederatedSession>, StoreError>;

    /// Stores what a refresh at the provider returned; `UnknownSession` if the session is gone.
    ///
    /// A `None` token keeps the stored one (providers need not rotate them); a `None`
    /// `refresh_at` clears it.
    async fn update_federated_tokens(
        &self,
        id: &str,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        refresh_at: Option<i64>,
        roles: &[String],
    ) -> Result<(), StoreError>;

    /// Takes the turn to refresh a federated session at its provider: moves a `refresh_at`
    /// that is due at `now` to `hold_until`, and says whether this call did (one caller wins,
    /// on every replica). Another caller's turn, or no refresh due, is `false`.
    async fn claim_refresh(&self, id: &str, now: i64, hold_until: i64) -> Result<bool, StoreError>;

    /// Back-channel logout: ends the provider's sessions of `subject` and/or `sid` that were
    /// created at or before `started_before` (a logout token's `iat`, plus leeway), so a
    /// replayed token cannot end a session begun after it was issued.
    ///
    /// Returns the ids it ended, sorted; `LogoutWithoutTarget` (nothing ended) if both are `None`.
    async fn revoke_federated(
        &self,
        provider: &str,
        subject: Option<&str>,
        sid: Option<&str>,
        started_before: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Keeps a sign-in in progress under the SHA-256 of `state`; deletes expired ones.
    ///
    /// Expiry is judged at `pending.created_at`.
    async fn put_pending_sign_in(
        &self,
        state: &str,
        pending: &PendingSignIn,
    ) -> Result<(), StoreError>;

    /// Deletes and returns the sign-in kept under `state`, once; `None` if unknown or expired.
    async fn take_pending_sign_in(
        &self,
        state: &str,
        now: i64,
    ) -> Result<Option<PendingSignIn>, StoreError>;

    /// Cheap round trip to the backend, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
}
