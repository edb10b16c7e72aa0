//! The app in force, swapped whole on reload (SIGHUP, or a watched file changing). A new
//! configuration that does not parse, cannot start, or changes a listener keeps the old app
//! running, and the reason is kept for `/health/ready`. Requests already being answered
//! finish on the app they started with: each holds its own `Arc`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use warden_core::Config;
use warden_core::config::ConfigErrors;

use crate::audit::Audit;
use crate::{SharedApp, StartError, build_app_with, metrics};

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has problems; each is listed with its location.
    #[error("invalid configuration in `{path}`:\n{errors}")]
    Invalid {
        /// The file.
        path: String,
        /// The problems.
        errors: ConfigErrors,
    },
    /// The store or keys could not be opened.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The new configuration changes something only a restart can (named, with the values).
    #[error("{0}: listeners and the watcher are set up at start, so this needs a restart")]
    NeedsRestart(String),
}

/// Reads and checks a configuration file; relative paths in it are taken from its directory.
pub fn read_config(path: &Path) -> Result<Config, LoadError> {
    read_config_text(path).map(|(config, _)| config)
}

/// [`read_config`], also giving the text read.
fn read_config_text(path: &Path) -> Result<(Config, String), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let config = Config::parse(&text, base).map_err(|errors| LoadError::Invalid {
        path: path.display().to_string(),
        errors,
    })?;
    Ok((config, text))
}

/// What is known about the configuration in force and the last attempt to change it.
#[derive(Debug, Clone)]
pub struct Status {
    /// The text of the configuration in force.
    pub text: String,
    /// Its SHA-256, hex.
    pub hash: String,
    /// Why the last reload did not take effect, when it did not.
    pub last_failure: Option<String>,
}

/// The running app and the file it came from.
pub struct Live {
    path: PathBuf,
    current: RwLock<SharedApp>,
    status: Mutex<Status>,
    /// The content of every watched file when last loaded or tried, so the watcher reloads
    /// once per change, not once per unrelated event in the same directory.
    tried: Mutex<[u8; 32]>,
    /// One reload at a time (SIGHUP and the watcher may both ask).
    reloading: tokio::sync::Mutex<()>,
}

impl Live {
    /// Loads the file and builds the first app.
    pub async fn start(path: &Path) -> Result<Arc<Self>, LoadError> {
        let (config, text) = read_config_text(path)?;
        let audit = match &config.audit {
            Some(a) => Some(Arc::new(Audit::start(a).map_err(StartError::Audit)?)),
            None => None,
        };
        let fingerprint = fingerprint(&text, &config);
        let app = build_app_with(config, audit).await?;
        let hash = hex(&sha256(text.as_bytes()));
        metrics::config_in_force(&hash, None);
        metrics::last_reload(true);
        Ok(Arc::new(Self {
            path: path.to_owned(),
            current: RwLock::new(app),
            status: Mutex::new(Status {
                text,
                hash,
                last_failure: None,
            }),
            tried: Mutex::new(fingerprint),
            reloading: tokio::sync::Mutex::new(()),
        }))
    }

    /// The configuration file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The app answering requests now.
    pub fn app(&self) -> SharedApp {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&guard)
    }

    /// The configuration in force and the last reload's failure.
    pub fn status(&self) -> Status {
        let status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.clone()
    }

    /// Reloads the file; on any error the old app stays, and the error is logged, counted,
    /// kept for `/health/ready` and returned.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let _one = self.reloading.lock().await;
        let result = self.try_reload().await;
        metrics::reload(result.is_ok());
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match &result {
            Ok(hash) => {
                tracing::info!(hash = %hash, "configuration reloaded");
                status.last_failure = None;
            }
            Err(e) => {
                tracing::error!(error = %e, "reload failed; the previous configuration stays in force");
                status.last_failure = Some(one_line(&e.to_string()));
            }
        }
        result.map(drop)
    }

    /// Reloads when the configuration or a file it names differs from what was last loaded
    /// or tried; `None` when nothing changed.
    pub async fn reload_if_changed(&self) -> Option<Result<(), LoadError>> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let now = fingerprint(&text, self.app().engine().config());
        {
            let mut tried = self.tried.lock().unwrap_or_else(PoisonError::into_inner);
            if *tried == now {
                return None;
            }
            *tried = now;
        }
        Some(self.reload().await)
    }

    async fn try_reload(&self) -> Result<String, LoadError> {
        let (config, text) = read_config_text(&self.path)?;
        let old = self.app();
        let old_config = old.engine().config();
        needs_restart(old_config, &config)
            .map_or(Ok(()), |what| Err(LoadError::NeedsRestart(what)))?;
        let audit = match (old.audit(), &config.audit) {
            (Some(a), Some(new)) if a.config() == new => Some(Arc::clone(a)),
            (_, Some(new)) => Some(Arc::new(Audit::start(new).map_err(StartError::Audit)?)),
            (_, None) => None,
        };
        let fingerprint = fingerprint(&text, &config);
        let app = build_app_with(config, audit).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = app;
        *self.tried.lock().unwrap_or_else(PoisonError::into_inner) = fingerprint;
        let hash = hex(&sha256(text.as_bytes()));
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        metrics::config_in_force(&hash, Some(&status.hash));
        status.text = text;
        status.hash.clone_from(&hash);
        Ok(hash)
    }
}

/// What a reload cannot change: the sockets are bound, the watcher and TLS set up, at start.
fn needs_restart(old: &Config, new: &Config) -> Option<String> {
    let show = |a: Option<&warden_core::config::AdminConfig>| {
        a.map_or_else(|| "off".to_owned(), |a| a.listen.to_string())
    };
    if old.listen != new.listen {
        return Some(format!(
            "`server.listen` changed from {} to {}",
            old.listen, new.listen
        ));
    }
    if old.admin != new.admin {
        let (from, to) = (show(old.admin.as_ref()), show(new.admin.as_ref()));
        return Some(format!("`admin.listen` changed from {from} to {to}"));
    }
    if old.tls != new.tls {
        return Some("`[server.tls]` changed".to_owned());
    }
    let watch = format!("`server.watch` changed from {} to {}", old.watch, new.watch);
    (old.watch != new.watch).then_some(watch)
}

/// SHA-256 over the configuration text and every file it names (missing files count as empty).
fn fingerprint(text: &str, config: &Config) -> [u8; 32] {
    let mut all = text.as_bytes().to_vec();
    for file in config.watched_files() {
        all.extend_from_slice(file.as_os_str().as_encoded_bytes());
        all.push(0);
        all.extend(std::fs::read(&file).unwrap_or_default());
        all.push(0);
    }
    sha256(&all)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An error's lines joined, for a one-line status: `invalid configuration in `f`: line 5, …;
/// line 9, …`.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

/// Reloads on every SIGHUP until the process ends; the audit file is reopened first, so
/// logrotate's `postrotate` works whether or not the configuration changed. The handler is
/// in place when this returns (an unhandled SIGHUP would end the process).
pub fn reload_on_hangup(live: Arc<Live>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; reload needs a restart");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                if let Some(audit) = live.app().audit() {
                    audit.reopen();
                }
                let _ = live.reload().await;
            }
        });
    }
    #[cfg(not(unix))]
    drop(live);
}
