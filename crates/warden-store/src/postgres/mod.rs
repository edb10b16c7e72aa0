//! PostgreSQL backend: one database shared by every warden replica and the CLI.

mod federated;
mod keys;
mod pending;
mod schema;
mod sessions;
mod users;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::OnceCell;

use crate::breaker::Breaker;
use crate::{
    ApiKeyRecord, FederatedLogin, FederatedSession, NewApiKey, NewSession, PendingSignIn,
    SessionLimits, SessionRecord, Store, StoreError, UserRecord,
};

/// Name of the backend in [`StoreError::Timeout`].
const BACKEND: &str = "postgresql";

/// Connections per store: enough for concurrent checks, few enough for many replicas.
const MAX_CONNECTIONS: u32 = 8;

/// [`Store`] on PostgreSQL; no caching, every call is a query. Clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    timeout: Duration,
    /// Set once a migration has succeeded; left empty by a failure, so the next call retries.
    migrated: Arc<OnceCell<()>>,
    /// Fails calls at once while PostgreSQL was just found unreachable.
    breaker: Arc<Breaker>,
}

impl std::fmt::Debug for PgStore {
    // The connect options hold the password; show only what is safe.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("timeout", &self.timeout)
            .field("migrated", &self.migrated.initialized())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// A store whose pool connects on first use, so PostgreSQL may be down; a bad URL is `Url`.
    ///
    /// No network I/O happens here. Must run inside a Tokio runtime: the pool spawns its
    /// reaper task.
    pub fn new(url: &str, timeout: Duration) -> Result<PgStore, StoreError> {
        let options = connect_options(url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Io(std::io::Error::other(
                "the postgresql store must be created inside a tokio runtime",
            )));
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(timeout)
            // After a server restart every pooled connection is dead: a ping at acquire
            // replaces it instead of failing one request per connection.
            .test_before_acquire(true)
            // Idle connections go after a minute, so a restart leaves few to find dead.
            .idle_timeout(Duration::from_secs(60))
            .connect_lazy_with(options);
        Ok(PgStore {
            pool,
            timeout,
            migrated: Arc::new(OnceCell::new()),
            breaker: Arc::new(Breaker::new(timeout)),
        })
    }

    /// Brings the schema to this build's version; `SchemaVersion` if the database is newer.
    ///
    /// Idempotent, and safe when several replicas start together: the steps run in one
    /// transaction under an advisory lock. Every [`Store`] call migrates first if needed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.bounded(async {
            schema::migrate(&self.pool).await?;
            // Already set by a concurrent call is as good as set here.
            let _ = self.migrated.set(());
            Ok(())
        })
        .await
    }

    /// The schema version the database is at, 0 if warden never migrated it.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.bounded(async {
            let mut conn = self.pool.acquire().await?;
            schema::version(&mut conn).await
        })
        .await
    }

    /// Runs `work` once the schema is migrated, the whole call bounded by the timeout.
    async fn call<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.bounded(async {
            // A failed migration leaves the cell empty: the next call tries again, so the
            // store recovers by itself once PostgreSQL is back.
            let migrate = || schema::migrate(&self.pool);
            self.migrated.get_or_try_init(migrate).await?;
            work.await
        })
        .await
    }

    /// Fails with `Timeout` when `work` (pool wait included) outlasts the timeout, and with
    /// `Unreachable` at once while PostgreSQL was just found down.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if !self.breaker.admit() {
            return Err(StoreError::Unreachable(BACKEND));
        }
        let result = self.timed(work).await;
        let reachable = !matches!(&result, Err(e) if e.is_transient());
        self.breaker.record(reachable);
        result
    }

    async fn timed<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let timed_out = || {
            let ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
            StoreError::Timeout(BACKEND, ms)
        };
        match tokio::time::timeout(self.timeout, work).await {
            // The pool gives up at the same deadline when it cannot connect in time.
            Ok(Err(StoreError::Database(sqlx::Error::PoolTimedOut))) | Err(_) => Err(timed_out()),
            Ok(result) => result,
        }
    }
}

/// Parses a `postgres://` URL; the error names what is wrong, never the password.
fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Url(
            "expected a `postgres://` or `postgresql://` url".to_owned(),
        ));
    }
    url.parse::<PgConnectOptions>().map_err(|e| {
        let cause = match &e {
            sqlx::Error::Configuration(inner) => inner.to_string(),
            other => other.to_string(),
        };
        StoreError::Url(redact(&format!("postgresql url: {cause}"), url))
    })
}

/// `message` with the URL's password, if it has one, replaced by `***`.
fn redact(message: &str, url: &str) -> String {
    // userinfo is what precedes the last '@' of the authority (before the first '/').
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let password = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_owned(),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn add_user(
        &self,
        name: &str,
        password: &str,
        roles: &[String],
    ) -> Result<(), StoreError> {
        users::add(self, name, password, roles).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.call(users::list(&self.pool)).await
    }

    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        self.call(users::set_disabled(&self.pool, name, disabled))
            .await
    }

    async fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        users::set_password(self, name, password).await
    }

    async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        users::check_password(self, name, password).await
    }

    async fn create_api_key(&self, name: &str, roles: &[String]) -> Result<NewApiKey, StoreError> {
        keys::create(self, name, roles).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.call(keys::list(&self.pool)).await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<(), StoreError> {
        self.call(keys::revoke(&self.pool, id)).await
    }

    async fn check_api_key(&self, plaintext: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        keys::check(self, plaintext).await
    }

    async fn create_session(
        &self,
        user: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError> {
        sessions::create(self, user, now, limits).await
    }

    async fn check_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        sessions::check(self, token, now, limits).await
    }

    async fn list_sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.call(sessions::list(&self.pool, now)).await
    }

    async fn revoke_session(&self, id: &str) -> Result<(), StoreError> {
        self.call(sessions::revoke(&self.pool, id)).await
    }

    async fn revoke_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        self.call(sessions::end_all(&self.pool, user)).await
    }

    async fn create_federated_session(
        &self,
        login: &FederatedLogin,
        now: i64,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError> {
        federated::create(self, login, now, limits).await
    }

    async fn check_federated_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<FederatedSession>, StoreError> {
        federated::check(self, token, now, limits).await
    }

    async fn update_federated_tokens(
        &self,
        id: &str,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        refresh_at: Option<i64>,
        roles: &[String],
    ) -> Result<(), StoreError> {
        federated::update_tokens(self, id, refresh_token, id_token, refresh_at, roles).await
    }

    async fn claim_refresh(&self, id: &str, now: i64, hold_until: i64) -> Result<bool, StoreError> {
        federated::claim_refresh(self, id, now, hold_until).await
    }

    async fn revoke_federated(
        &self,
        provider: &str,
        subject: Option<&str>,
        sid: Option<&str>,
        started_before: i64,
    ) -> Result<Vec<String>, StoreError> {
        federated::revoke(self, provider, subject, sid, started_before).await
    }

    async fn put_pending_sign_in(
        &self,
        state: &str,
        pending: &PendingSignIn,
    ) -> Result<(), StoreError> {
        self.call(pending::put(&self.pool, state, pending)).await
    }

    async fn take_pending_sign_in(
        &self,
        state: &str,
        now: i64,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        self.call(pending::take(&self.pool, state, now)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.call(async {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        let url = "postgres://warden:s3cr%2Ft@db.internal:5432/warden";
        let shown = redact(&format!("bad {url}"), url);
        assert_eq!(shown, "bad postgres://warden:***@db.internal:5432/warden");
        assert_eq!(redact("x", "postgres://warden@db/w"), "x");
        assert_eq!(redact("a:b", "postgres://db:5432/w"), "a:b");
    }

    #[test]
    fn bad_urls_are_url_errors_without_the_password() {
        for url in [
            "postgres://warden:hunter2hunter2@db:notaport/warden",
            "mysql://warden:hunter2hunter2@db/warden",
            "postgres://warden:hunter2hunter2@db/warden?sslmode=sometimes",
        ] {
            let err = connect_options(url).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, StoreError::Url(_)), "{url}: {err:?}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }
}
