//! The storage trait the server and CLI program against.

use async_trait::async_trait;

use crate::{ApiKeyRecord, NewApiKey, StoreError, UserRecord};

/// Users and API keys; implementations must reflect writes immediately.
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

    /// Disables or re-enables a user; `UnknownUser` if absent.
    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError>;

    /// Replaces a user's password; `UnknownUser` if absent.
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

    /// Cheap round trip to the backend, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
}
