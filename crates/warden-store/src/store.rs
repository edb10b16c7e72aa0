//! The storage trait the server and CLI program against.

use async_trait::async_trait;

use crate::{
    ApiKeyRecord, NewApiKey, NewSession, SessionLimits, SessionRecord, StoreError, UserRecord,
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

    /// Sessions not past their absolute expiry at `now`, oldest first.
    async fn list_sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Ends a session by id; `UnknownSession` if absent.
    async fn revoke_session(&self, id: &str) -> Result<(), StoreError>;

    /// Ends every session of a user and returns how many there were.
    async fn revoke_user_sessions(&self, user: &str) -> Result<u64, StoreError>;

    /// Cheap round trip to the backend, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
}
