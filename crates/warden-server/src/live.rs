//! The app in force, swapped whole on reload (SIGHUP); an invalid new configuration keeps the
//! old app running.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use warden_core::Config;
use warden_core::config::ConfigErrors;

use crate::{SharedApp, StartError, build_app};

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
}

/// Reads and checks a configuration file; relative paths in it are taken from its directory.
pub fn read_config(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Config::parse(&text, base).map_err(|errors| LoadError::Invalid {
        path: path.display().to_string(),
        errors,
    })
}

/// The running app and the file it came from.
pub struct Live {
    path: PathBuf,
    current: RwLock<SharedApp>,
}

impl Live {
    /// Loads the file and builds the first app.
    pub async fn start(path: &Path) -> Result<Arc<Self>, LoadError> {
        let app = build_app(read_config(path)?).await?;
        Ok(Arc::new(Self {
            path: path.to_owned(),
            current: RwLock::new(app),
        }))
    }

    /// The app answering requests now.
    pub fn app(&self) -> SharedApp {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads the file; on any error the old app stays and the error is returned.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let config = read_config(&self.path)?;
        let old_listen = self.app().engine().config().listen;
        if config.listen != old_listen {
            tracing::warn!(old = %old_listen, new = %config.listen, "`server.listen` changes need a restart");
        }
        let app = build_app(config).await?;
        match self.current.write() {
            Ok(mut guard) => *guard = app,
            Err(poisoned) => *poisoned.into_inner() = app,
        }
        Ok(())
    }
}

/// Reloads on every SIGHUP until the process ends.
pub async fn reload_on_hangup(live: Arc<Live>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; reload needs a restart");
            return;
        };
        while hangups.recv().await.is_some() {
            match live.reload().await {
                Ok(()) => tracing::info!("configuration reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "reload failed; the previous configuration stays in force")
                }
            }
        }
    }
    #[cfg(not(unix))]
    drop(live);
}
