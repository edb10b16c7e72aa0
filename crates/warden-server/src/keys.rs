//! Verification keys for JWTs: from a file, or fetched from a JWKS URL, cached and refreshed.
//! When the URL is down the last good keys stay in force; with no keys ever, tokens get 503.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use warden_core::config::{JwtConfig, KeySource};
use warden_core::jwt::KeySet;

use crate::oidc::http::CallError;

/// How long a fetch may take before it counts as down.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Minimum gap between refreshes triggered by unknown `kid`s.
const KID_COOLDOWN: Duration = Duration::from_secs(30);
/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The document is not a usable JWKS.
    #[error("{0}")]
    Jwks(#[from] warden_core::jwt::KeySetError),
    /// The URL could not be fetched.
    #[error("fetching the JWKS failed: {0}")]
    Fetch(String),
}

/// The current keys and where they come from.
pub struct KeyProvider {
    source: KeySource,
    current: RwLock<Option<Arc<KeySet>>>,
    last_fetch: Mutex<Option<Instant>>,
    client: reqwest::Client,
}

impl KeyProvider {
    /// Loads keys once; a file must load, a URL may be down at start (tokens then get 503).
    pub async fn start(config: &JwtConfig) -> Result<Arc<Self>, KeyError> {
        Self::from_source(config.source.clone(), config.refresh).await
    }

    /// Keys from `source`, refreshed every `refresh` when it is a URL (an OpenID Provider's
    /// `jwks_uri` too).
    pub async fn from_source(source: KeySource, refresh: Duration) -> Result<Arc<Self>, KeyError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| KeyError::Fetch(e.to_string()))?;
        let provider = Arc::new(Self {
            source,
            current: RwLock::new(None),
            last_fetch: Mutex::new(None),
            client,
        });
        match &provider.source {
            KeySource::File(_) => provider.reload().await?,
            KeySource::Url(url) => {
                if let Err(e) = provider.reload().await {
                    let error = crate::admin::without_password(&e.to_string(), url);
                    let url = crate::admin::without_password(url, url);
                    tracing::warn!(
                        url,
                        error,
                        "JWKS unavailable at start; bearer tokens get 503 until it loads"
                    );
                }
                tokio::spawn(refresh_loop(Arc::downgrade(&provider), refresh));
            }
        }
        Ok(provider)
    }

    /// The keys in force, if any were ever loaded.
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    /// Loads the keys again; on failure the previous keys stay.
    pub async fn reload(&self) -> Result<(), KeyError> {
        let loaded = self.load().await;
        crate::metrics::jwks_refresh(loaded.is_ok());
        loaded
    }

    async fn load(&self) -> Result<(), KeyError> {
        *self.last_fetch.lock().await = Some(Instant::now());
        let set = match &self.source {
            KeySource::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|source| KeyError::File {
                        path: path.display().to_string(),
                        source,
                    })?;
                KeySet::from_jwks(&bytes)?
            }
            KeySource::Url(url) => KeySet::from_jwks(&self.fetch(url).await?)?,
        };
        if let Ok(mut guard) = self.current.write() {
            *guard = Some(Arc::new(set));
        }
        Ok(())
    }

    /// A token named a `kid` we do not have: refetch a URL source, at most once per cooldown.
    pub async fn refresh_for_unknown_kid(&self) -> bool {
        if matches!(self.source, KeySource::File(_)) {
            return false;
        }
        let due = self
            .last_fetch
            .lock()
            .await
            .is_none_or(|t| t.elapsed() >= KID_COOLDOWN);
        due && self.reload().await.is_ok()
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, KeyError> {
        let fail = |e: reqwest::Error| KeyError::Fetch(e.without_url().to_string());
        let response = self.client.get(url).send().await.map_err(fail)?;
        if !response.status().is_success() {
            return Err(KeyError::Fetch(format!("status {}", response.status())));
        }
        crate::oidc::http::read_limited(response, MAX_JWKS_BYTES)
            .await
            .map_err(|e| match e {
                CallError::Down(why) | CallError::Bad(why) => KeyError::Fetch(why),
            })
    }
}

async fn refresh_loop(provider: std::sync::Weak<KeyProvider>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(provider) = provider.upgrade() else {
            return;
        };
        if let Err(e) = provider.reload().await {
            let error = match &provider.source {
                KeySource::Url(url) => crate::admin::without_password(&e.to_string(), url),
                KeySource::File(_) => e.to_string(),
            };
            tracing::warn!(error, "JWKS refresh failed; keeping the last good keys");
        }
    }
}
