//! The configured store and shared state: URLs resolved (a file's first line, `${NAME}` from
//! the environment), backends built without I/O, and the first contact made at start. The
//! server and the CLI open them here, so both name the same setting in every error.

use std::path::Path;
use std::sync::Arc;

use warden_core::Config;
use warden_core::config::{
    StateBackend, StateConfig, StoreBackend, StoreConfig, UrlSetting, expand_env,
};
use warden_store::{
    AttemptLimits, AttemptState, MemoryAttempts, PgStore, RedisSpec, RedisState, SqliteStore,
    Store, StoreError,
};

/// Why a backend cannot be used; every message names the setting and never a password.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The setting itself is unusable (unset variable, unreadable file, malformed URL).
    #[error("`{key}` {why}")]
    Setting {
        /// The configuration key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The backend answered, or failed to, in a way only an operator can fix.
    #[error("`{key}`: {cause}")]
    Backend {
        /// The configuration key.
        key: &'static str,
        /// The backend's error (in the message, so not also a `source`).
        cause: StoreError,
    },
}

impl BackendError {
    /// True when waiting may fix it (the backend is down or starting), so `serve` keeps going.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Backend { cause, .. } if cause.is_transient())
    }
}

/// The store the configuration names; PostgreSQL is not contacted yet.
pub async fn store(config: &Config) -> Result<Arc<dyn Store>, BackendError> {
    let key = "store.url";
    let at = |cause| BackendError::Backend { key, cause };
    match &config.store.backend {
        StoreBackend::Sqlite(file) => Ok(Arc::new(SqliteStore::open_file(file).await.map_err(at)?)),
        StoreBackend::Postgres(url) => Ok(Arc::new(postgres(url, &config.store)?)),
    }
}

/// The PostgreSQL store for `warden migrate` and the first contact at start.
pub fn postgres(url: &UrlSetting, config: &StoreConfig) -> Result<PgStore, BackendError> {
    let key = store_key(url);
    let url = resolve(url, key)?;
    PgStore::new(&url, config.timeout).map_err(|cause| BackendError::Backend { key, cause })
}

/// The setting that names the store, for messages.
pub fn store_setting(config: &Config) -> &'static str {
    match &config.store.backend {
        StoreBackend::Postgres(url) => store_key(url),
        StoreBackend::Sqlite(_) => "store.url / server.data_dir",
    }
}

/// Builds every configured backend without contacting it, so `config check` reports a bad
/// URL, an unset variable or an unreadable secret file.
pub fn check(config: &Config) -> Result<(), BackendError> {
    if let StoreBackend::Postgres(url) = &config.store.backend {
        postgres(url, &config.store)?;
    }
    redis(config)?;
    Ok(())
}

fn store_key(url: &UrlSetting) -> &'static str {
    match url {
        UrlSetting::Inline(_) => "store.url",
        UrlSetting::File(_) => "store.url_file",
    }
}

/// Redis when `[state]` names it; Redis is not contacted yet.
pub fn redis(config: &Config) -> Result<Option<Arc<RedisState>>, BackendError> {
    let StateBackend::Redis { urls, cluster } = &config.state.backend else {
        return Ok(None);
    };
    let key = state_key(urls, *cluster);
    let urls = (urls.iter())
        .map(|u| resolve(u, key))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = RedisSpec {
        urls,
        cluster: *cluster,
        prefix: config.state.key_prefix.clone(),
        timeout: config.state.timeout,
        limits: attempt_limits(config),
    };
    let state = RedisState::new(spec).map_err(|cause| BackendError::Backend { key, cause })?;
    Ok(Some(Arc::new(state)))
}

fn state_key(urls: &[UrlSetting], cluster: bool) -> &'static str {
    match (urls.first(), cluster) {
        (_, true) => "state.urls",
        (Some(UrlSetting::File(_)), false) => "state.url_file",
        _ => "state.url",
    }
}

/// The failed-attempt counters: shared in Redis, or this process's own.
pub fn attempts(config: &Config, redis: Option<&Arc<RedisState>>) -> Arc<dyn AttemptState> {
    match redis {
        Some(redis) => Arc::clone(redis) as Arc<dyn AttemptState>,
        None => Arc::new(MemoryAttempts::new(attempt_limits(config))),
    }
}

/// The configured limits in the counters' terms.
pub fn attempt_limits(config: &Config) -> AttemptLimits {
    AttemptLimits {
        per_ip: config.limits.per_ip,
        per_user: config.limits.per_user,
        window_ms: u64::from(config.limits.window_seconds) * 1000,
        ..AttemptLimits::default()
    }
}

/// The URL a setting stands for: the text with `${NAME}` expanded, or a file's first line.
pub fn resolve(setting: &UrlSetting, key: &'static str) -> Result<String, BackendError> {
    let setting_error = |why: String| BackendError::Setting { key, why };
    match setting {
        UrlSetting::Inline(text) => {
            expand_env(text, |name| std::env::var(name).ok()).map_err(setting_error)
        }
        UrlSetting::File(path) => read_first_line(path).map_err(setting_error),
    }
}

fn read_first_line(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        return Err(format!("`{}` is empty", path.display()));
    }
    Ok(line.to_owned())
}

/// Makes first contact at start: migrates PostgreSQL and pings Redis. A backend that is down
/// is logged and retried by every later call (health answers 503 meanwhile); an error only an
/// operator can fix (credentials, a newer schema) stops the start.
pub async fn first_contact(
    store: &Arc<dyn Store>,
    redis: Option<&Arc<RedisState>>,
    config: &Config,
) -> Result<(), BackendError> {
    if let StoreBackend::Postgres(url) = &config.store.backend {
        let key = store_key(url);
        if let Err(cause) = store.ping().await {
            let error = BackendError::Backend { key, cause };
            if !error.is_transient() {
                return Err(error);
            }
            tracing::error!(error = %error, "store unreachable; answering 503 until it is back");
        }
    }
    if let (Some(redis), StateBackend::Redis { urls, cluster }) = (redis, &config.state.backend)
        && let Err(cause) = redis.ping().await
    {
        let key = state_key(urls, *cluster);
        let error = BackendError::Backend { key, cause };
        if !error.is_transient() {
            return Err(error);
        }
        tracing::error!(error = %error, "state (redis) unreachable; answering 503 until it is back");
    }
    Ok(())
}

/// The state named in health answers and logs.
pub fn state_name(config: &StateConfig) -> &'static str {
    match config.backend {
        StateBackend::Memory => "memory",
        StateBackend::Redis { cluster: false, .. } => "redis",
        StateBackend::Redis { cluster: true, .. } => "redis cluster",
    }
}

/// The store named in health answers and logs.
pub fn store_name(config: &StoreConfig) -> &'static str {
    match config.backend {
        StoreBackend::Sqlite(_) => "sqlite",
        StoreBackend::Postgres(_) => "postgresql",
    }
}
