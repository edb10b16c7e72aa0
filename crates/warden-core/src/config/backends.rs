//! `[store]` and `[state]`: where users, keys and sessions live (SQLite or PostgreSQL), and
//! where the state replicas share lives (in process or Redis). Only the shape is checked here;
//! a URL that names a file or environment variable is resolved by the server at start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::Issues;

/// `[store]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    pub timeout_ms: Option<Spanned<i64>>,
}

/// `[state]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub url: Option<Spanned<String>>,
    pub urls: Option<Spanned<Vec<String>>>,
    pub url_file: Option<Spanned<String>>,
    pub key_prefix: Option<Spanned<String>>,
    pub timeout_ms: Option<Spanned<i64>>,
}

/// A backend URL as configured: inline (`${NAME}` expanded from the environment at start) or
/// the first line of a file (a mounted secret). Never printed whole: it may hold a password.
#[derive(Clone, PartialEq, Eq)]
pub enum UrlSetting {
    /// Written in the configuration.
    Inline(String),
    /// Read from this file at start.
    File(PathBuf),
}

impl std::fmt::Debug for UrlSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// Which store holds users, API keys and sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// The embedded SQLite file (default: `warden.db` under `server.data_dir`).
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by replicas.
    Postgres(UrlSetting),
}

/// `[store]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The backend.
    pub backend: StoreBackend,
    /// Bound on every call to the backend.
    pub timeout: Duration,
}

/// Where shared state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateBackend {
    /// In this process only (one replica).
    Memory,
    /// A Redis server, or a Redis Cluster given by seed nodes.
    Redis {
        /// One URL, or the cluster's seed nodes.
        urls: Vec<UrlSetting>,
        /// True when `urls` are cluster seed nodes.
        cluster: bool,
    },
}

/// `[state]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    /// The backend.
    pub backend: StateBackend,
    /// Prefix of every key and channel, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Bound on every call to the backend.
    pub timeout: Duration,
}

impl StateConfig {
    /// True when replicas share this state (not in process).
    pub fn is_shared(&self) -> bool {
        !matches!(self.backend, StateBackend::Memory)
    }
}

pub(super) fn store(
    raw: Option<Spanned<RawStore>>,
    data_dir: &Path,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> StoreConfig {
    let raw = raw.map(Spanned::into_inner).unwrap_or_default();
    let timeout = timeout(raw.timeout_ms.as_ref(), "store.timeout_ms", 2000, issues);
    let default = StoreBackend::Sqlite(data_dir.join("warden.db"));
    let backend = match (raw.url, raw.url_file) {
        (None, None) => default,
        (Some(_), Some(file)) => {
            issues.add("store", file.span(), "set `url` or `url_file`, not both");
            default
        }
        (None, Some(file)) => {
            StoreBackend::Postgres(UrlSetting::File(base_dir.join(file.get_ref())))
        }
        (Some(url), None) => store_url(&url, base_dir, issues).unwrap_or(default),
    };
    StoreConfig { backend, timeout }
}

fn store_url(
    url: &Spanned<String>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<StoreBackend> {
    let text = url.get_ref();
    if let Some(path) = text.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            issues.add("store.url", url.span(), "`sqlite://` needs a file path");
            return None;
        }
        return Some(StoreBackend::Sqlite(base_dir.join(path)));
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Some(StoreBackend::Postgres(UrlSetting::Inline(text.clone())));
    }
    issues.add(
        "store.url",
        url.span(),
        "must start with `postgres://`, `postgresql://` or `sqlite://`",
    );
    None
}

pub(super) fn state(
    raw: Option<Spanned<RawState>>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> StateConfig {
    let raw = raw.map(Spanned::into_inner).unwrap_or_default();
    let timeout = timeout(raw.timeout_ms.as_ref(), "state.timeout_ms", 1000, issues);
    let key_prefix = match raw.key_prefix {
        None => "warden:".to_owned(),
        Some(prefix) => {
            // Braces would change the cluster hash tag that keeps a prefix in one slot.
            if prefix
                .get_ref()
                .chars()
                .any(|c| c.is_control() || c == '{' || c == '}')
            {
                let why = "must not contain control characters or braces";
                issues.add("state.key_prefix", prefix.span(), why);
            }
            prefix.into_inner()
        }
    };
    let backend = state_backend(raw.url, raw.urls, raw.url_file, base_dir, issues);
    StateConfig {
        backend,
        key_prefix,
        timeout,
    }
}

fn state_backend(
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<String>>>,
    url_file: Option<Spanned<String>>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> StateBackend {
    let single = |urls: Vec<UrlSetting>| StateBackend::Redis {
        urls,
        cluster: false,
    };
    match (url, urls, url_file) {
        (None, None, None) => StateBackend::Memory,
        (Some(url), None, None) => match redis_url(url.get_ref()) {
            Ok(()) => single(vec![UrlSetting::Inline(url.into_inner())]),
            Err(why) => {
                issues.add("state.url", url.span(), why);
                StateBackend::Memory
            }
        },
        (None, Some(urls), None) => cluster(urls, issues),
        (None, None, Some(file)) => single(vec![UrlSetting::File(base_dir.join(file.get_ref()))]),
        (url, urls, file) => {
            let span = (url.map(|u| u.span()))
                .or(urls.map(|u| u.span()))
                .or(file.map(|f| f.span()));
            let why = "set one of `url`, `urls` (a cluster) and `url_file`";
            issues.add("state", span.unwrap_or(0..0), why);
            StateBackend::Memory
        }
    }
}

fn cluster(urls: Spanned<Vec<String>>, issues: &mut Issues<'_>) -> StateBackend {
    let span = urls.span();
    let urls = urls.into_inner();
    if urls.is_empty() {
        issues.add("state.urls", span, "needs at least one seed node");
        return StateBackend::Memory;
    }
    for url in &urls {
        if let Err(why) = redis_url(url) {
            issues.add("state.urls", span.clone(), why);
            return StateBackend::Memory;
        }
    }
    StateBackend::Redis {
        urls: urls.into_iter().map(UrlSetting::Inline).collect(),
        cluster: true,
    }
}

fn redis_url(url: &str) -> Result<(), &'static str> {
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(())
    } else {
        Err("must start with `redis://` or `rediss://`")
    }
}

pub(super) fn timeout(
    value: Option<&Spanned<i64>>,
    key: &str,
    default: u64,
    issues: &mut Issues<'_>,
) -> Duration {
    let Some(value) = value else {
        return Duration::from_millis(default);
    };
    match u64::try_from(*value.get_ref()) {
        Ok(ms) if (10..=60_000).contains(&ms) => Duration::from_millis(ms),
        _ => {
            issues.add(
                key,
                value.span(),
                "must be between 10 and 60000 milliseconds",
            );
            Duration::from_millis(default)
        }
    }
}

/// Expands `${NAME}` from `lookup`; an unset or unterminated reference is an error naming it.
pub fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("has an unterminated `${`".to_owned());
        };
        let name = &after[..end];
        let value = lookup(name).ok_or_else(|| format!("names `${{{name}}}`, which is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_are_expanded_or_named() {
        let env = |name: &str| (name == "PW").then(|| "s3cret".to_owned());
        assert_eq!(
            expand_env("postgres://w:${PW}@db/w", env).as_deref(),
            Ok("postgres://w:s3cret@db/w")
        );
        assert_eq!(expand_env("redis://h", env).as_deref(), Ok("redis://h"));
        assert_eq!(
            expand_env("postgres://w:${NOPE}@db", env),
            Err("names `${NOPE}`, which is not set".to_owned())
        );
        assert!(expand_env("postgres://${PW", env).is_err());
    }

    #[test]
    fn inline_urls_are_not_printed() {
        let shown = format!("{:?}", UrlSetting::Inline("postgres://u:pw@h/d".into()));
        assert!(!shown.contains("pw"), "{shown}");
    }
}
