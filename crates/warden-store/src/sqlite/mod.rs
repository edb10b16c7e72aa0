//! SQLite backend: one database file shared by the CLI (writer) and the server.

mod federated;
mod keys;
mod pending;
mod schema;
mod sessions;
mod users;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::{
    ApiKeyRecord, FederatedLogin, FederatedSession, NewApiKey, NewSession, PendingSignIn,
    SessionLimits, SessionRecord, Store, StoreError, UserRecord,
};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "warden.db";

/// [`Store`] backed by `data_dir/warden.db`; no caching, every call hits the file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the data directory and database, and migrates the schema.
    pub async fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_file(&data_dir.join(DB_FILE)).await
    }

    /// Opens (creating if needed) the database file and its directory, and migrates the schema.
    pub async fn open_file(file: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            // WAL lets the server read while the CLI writes; the timeout rides out write locks.
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        schema::migrate(&pool).await?;
        warm_dummy_hash().await?;
        Ok(SqliteStore { pool })
    }
}

/// Creates the directory (owner-only on Unix, since it holds password hashes).
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    Ok(())
}

/// Computes the dummy hash now so the first unknown-user login is not slower than the rest.
async fn warm_dummy_hash() -> Result<(), StoreError> {
    tokio::task::spawn_blocking(|| crate::password::dummy_hash().map(|_| ()))
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))?
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_user(
        &self,
        name: &str,
        password: &str,
        roles: &[String],
    ) -> Result<(), StoreError> {
        users::add(&self.pool, name, password, roles).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        users::list(&self.pool).await
    }

    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        users::set_disabled(&self.pool, name, disabled).await
    }

    async fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        users::set_password(&self.pool, name, password).await
    }

    async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        users::check_password(&self.pool, name, password).await
    }

    async fn create_api_key(&self, name: &str, roles: &[String]) -> Result<NewApiKey, StoreError> {
        keys::create(&self.pool, name, roles).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        keys::list(&self.pool).await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<(), StoreError> {
        keys::revoke(&self.pool, id).await
    }

    async fn check_api_key(&self, plaintext: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        keys::check(&self.pool, plaintext).await
    }

    async fn create_session(
        &self,
        user: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError> {
        sessions::create(&self.pool, user, now, limits).await
    }

    async fn check_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        sessions::check(&self.pool, token, now, limits).await
    }

    async fn list_sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        sessions::list(&self.pool, now).await
    }

    async fn revoke_session(&self, id: &str) -> Result<(), StoreError> {
        sessions::revoke(&self.pool, id).await
    }

    async fn revoke_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        sessions::end_all(&self.pool, user).await
    }

    async fn create_federated_session(
        &self,
        login: &FederatedLogin,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError> {
        federated::create(&self.pool, login, now, limits).await
    }

    async fn check_federated_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<FederatedSession>, StoreError> {
        federated::check(&self.pool, token, now, limits).await
    }

    async fn update_federated_tokens(
        &self,
        id: &str,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        refresh_at: Option<i64>,
        roles: &[String],
    ) -> Result<(), StoreError> {
        let pool = &self.pool;
        federated::update_tokens(pool, id, refresh_token, id_token, refresh_at, roles).await
    }

    async fn claim_refresh(&self, id: &str, now: i64, hold_until: i64) -> Result<bool, StoreError> {
        federated::claim_refresh(&self.pool, id, now, hold_until).await
    }

    async fn revoke_federated(
        &self,
        provider: &str,
        subject: Option<&str>,
        sid: Option<&str>,
        started_before: i64,
    ) -> Result<Vec<String>, StoreError> {
        federated::revoke(&self.pool, provider, subject, sid, started_before).await
    }

    async fn put_pending_sign_in(
        &self,
        state: &str,
        pending: &PendingSignIn,
    ) -> Result<(), StoreError> {
        pending::put(&self.pool, state, pending).await
    }

    async fn take_pending_sign_in(
        &self,
        state: &str,
        now: i64,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        pending::take(&self.pool, state, now).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
