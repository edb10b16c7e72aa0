//! warden's HTTP edge: the decision server, key fetching, and turning outcomes into responses.

pub mod admin;
pub mod app;
pub mod audit;
pub mod authn;
pub mod backends;
mod cache;
pub mod clock;
mod decision_log;
pub mod health;
mod htpasswd;
mod introspect;
pub mod keys;
pub mod live;
mod login;
mod metadata;
pub mod metrics;
pub mod oidc;
pub mod proxy;
pub mod serve;
mod tls;
pub mod watch;

use std::sync::Arc;

use warden_core::{Config, Engine};

pub use app::{App, Evaluation, SharedApp};
pub use clock::now_unix;
pub use live::{Live, LoadError, read_config};

/// Errors while starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] warden_store::StoreError),
    /// The store or shared state named by the configuration cannot be used.
    #[error(transparent)]
    Backend(#[from] backends::BackendError),
    /// JWT keys could not be loaded.
    #[error("cannot load JWT keys: {0}")]
    Keys(#[from] keys::KeyError),
    /// The htpasswd file could not be read.
    #[error(transparent)]
    Htpasswd(#[from] htpasswd::HtpasswdError),
    /// An identity provider could not be set up.
    #[error(transparent)]
    Oidc(#[from] oidc::OidcError),
    /// Token introspection could not be set up.
    #[error(transparent)]
    Introspection(#[from] introspect::IntrospectError),
    /// The TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The audit file could not be opened.
    #[error("cannot open the audit file: {0}")]
    Audit(std::io::Error),
}

/// The TLS acceptor for `[server.tls]`, when configured.
pub fn tls_acceptor(config: &Config) -> Result<Option<tokio_rustls::TlsAcceptor>, StartError> {
    Ok(config.tls.as_ref().map(tls::acceptor).transpose()?)
}

/// Opens the store, shared state and keys for a configuration and builds the app.
pub async fn build_app(config: Config) -> Result<SharedApp, StartError> {
    build_app_with(config, None).await
}

/// [`build_app`], writing audit lines to `audit`.
pub async fn build_app_with(
    config: Config,
    audit: Option<Arc<audit::Audit>>,
) -> Result<SharedApp, StartError> {
    let store = backends::store(&config).await?;
    let redis = backends::redis(&config)?;
    backends::first_contact(&store, redis.as_ref(), &config).await?;
    let attempts = backends::attempts(&config, redis.as_ref());
    let authenticators = authn::Authenticators::new(&config, store, attempts).await?;
    let app = App::new(Engine::new(config), authenticators, redis);
    Ok(Arc::new(app.with_audit(audit)))
}
