//! An Apache htpasswd file as a user source beside the store: loaded at start, re-read within a
//! second of a change, the last good version kept when a change cannot be read.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use warden_core::config::HtpasswdConfig;
use warden_store::{Htpasswd, HtpasswdCheck};

/// How often the file's size and modification time are looked at.
const POLL: Duration = Duration::from_secs(1);

/// The file could not be read at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the htpasswd file `{path}`: {source}")]
pub struct HtpasswdError {
    path: String,
    source: std::io::Error,
}

type Stamp = (Option<SystemTime>, u64);

/// The file's users in force, and the roles the configuration gives them.
pub struct HtpasswdSource {
    path: PathBuf,
    config: HtpasswdConfig,
    current: RwLock<(Arc<Htpasswd>, Stamp)>,
    /// Bumped after every reload, once the new users are in force.
    generation: AtomicU64,
}

impl HtpasswdSource {
    /// Reads the file (it must exist) and starts watching it.
    pub async fn start(config: &HtpasswdConfig) -> Result<Arc<Self>, HtpasswdError> {
        let (users, stamp) = read(&config.path).await.map_err(|source| HtpasswdError {
            path: config.path.display().to_string(),
            source,
        })?;
        let source = Arc::new(Self {
            path: config.path.clone(),
            config: config.clone(),
            current: RwLock::new((Arc::new(users), stamp)),
            generation: AtomicU64::new(0),
        });
        tokio::spawn(watch(Arc::downgrade(&source)));
        Ok(source)
    }

    /// The users in force.
    pub fn users(&self) -> Arc<Htpasswd> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard.0),
            Err(poisoned) => Arc::clone(&poisoned.into_inner().0),
        }
    }

    /// Which version of the file is in force: part of the cache key of Basic successes, so a
    /// password changed or removed in the file stops working as soon as the file is re-read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The configured roles of a file user.
    pub fn roles(&self, user: &str) -> Vec<String> {
        self.config.roles.get(user).cloned().unwrap_or_default()
    }

    /// Checks a password on a blocking thread (bcrypt and SHA-crypt are slow on purpose).
    pub async fn check(&self, user: &str, password: &str) -> Option<HtpasswdCheck> {
        let (users, user, password) = (self.users(), user.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || users.check(&user, &password))
            .await
            .ok()
    }

    async fn reload_if_changed(&self) {
        let stamp = stamp(&self.path).await;
        let unchanged = self.current.read().is_ok_and(|g| Some(g.1) == stamp);
        if unchanged {
            return;
        }
        match read(&self.path).await {
            Ok((users, stamp)) => {
                for warning in users.warnings() {
                    tracing::warn!(file = %self.path.display(), "{warning}");
                }
                tracing::info!(file = %self.path.display(), users = users.len(), "htpasswd reloaded");
                if let Ok(mut guard) = self.current.write() {
                    *guard = (Arc::new(users), stamp);
                }
                self.generation.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "htpasswd unreadable; keeping the previous users")
            }
        }
    }
}

async fn stamp(path: &PathBuf) -> Option<Stamp> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some((meta.modified().ok(), meta.len()))
}

async fn read(path: &PathBuf) -> std::io::Result<(Htpasswd, Stamp)> {
    let before = stamp(path).await.unwrap_or((None, 0));
    let text = tokio::fs::read_to_string(path).await?;
    Ok((Htpasswd::parse(&text), before))
}

async fn watch(source: Weak<HtpasswdSource>) {
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        let Some(source) = source.upgrade() else {
            return;
        };
        source.reload_if_changed().await;
    }
}
