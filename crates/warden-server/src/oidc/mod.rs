//! Identity providers (OpenID Connect): the adapter that talks to them. The sign-in pages
//! that use it live in `login::federated`; the claim checks in `warden_core::oidc`.

pub mod http;
mod provider;

use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warden_core::config::{Config, OidcProvider, SecretSource};

pub use provider::{
    IdTokenError, LEEWAY, Metadata, Provider, Ready, TokenCall, Tokens, Unavailable,
};

/// Shortest time between two refreshes of one session, whatever `expires_in` says.
pub const MIN_REFRESH_SECONDS: i64 = 5;

/// When a session whose access token lives `expires_in` seconds is refreshed next.
pub fn refresh_at(now: i64, expires_in: Option<i64>) -> i64 {
    now + expires_in.unwrap_or(300).max(MIN_REFRESH_SECONDS)
}

/// Why a provider could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The client secret could not be read.
    #[error("`authn.oidc` `{provider}`: cannot read the client secret: {why}")]
    Secret {
        /// The provider's name.
        provider: String,
        /// What went wrong (no secret in it).
        why: String,
    },
    /// The HTTP client could not be built.
    #[error("`authn.oidc`: {0}")]
    Client(String),
}

/// The configured providers, by name.
#[derive(Default)]
pub struct Providers {
    all: Vec<Arc<Provider>>,
}

impl Providers {
    /// Reads every provider's secret; discovery waits for the first sign-in.
    pub fn start(config: &Config) -> Result<Self, OidcError> {
        let Some(login) = config.login.as_ref().filter(|l| !l.providers.is_empty()) else {
            return Ok(Self::default());
        };
        let client = http::client().map_err(OidcError::Client)?;
        let mut all = Vec::new();
        for p in &login.providers {
            let secret = secret(p)?;
            all.push(Arc::new(Provider::new(p.clone(), secret, client.clone())));
        }
        Ok(Self { all })
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.all.iter().find(|p| p.config.name == name)
    }

    /// The provider whose issuer is exactly `issuer`.
    pub fn by_issuer(&self, issuer: &str) -> Option<&Arc<Provider>> {
        self.all.iter().find(|p| p.config.issuer == issuer)
    }
}

/// For `config check`: every client secret the configuration names can be read now, as
/// `serve` will need it (the error names the section, never the secret).
pub fn check_secrets(config: &Config) -> Result<(), String> {
    let providers = config.login.iter().flat_map(|l| &l.providers);
    for p in providers {
        secret(p).map_err(|e| e.to_string())?;
    }
    if let Some(i) = &config.introspection {
        let why = read_secret(&i.client_secret).err();
        if let Some(why) = why {
            return Err(crate::introspect::IntrospectError::Secret(why).to_string());
        }
    }
    Ok(())
}

fn secret(p: &OidcProvider) -> Result<String, OidcError> {
    read_secret(&p.client_secret).map_err(|why| OidcError::Secret {
        provider: p.name.clone(),
        why,
    })
}

/// The first line of a client secret's file or variable, trimmed; `Err` says why (never the
/// secret).
pub fn read_secret(source: &SecretSource) -> Result<String, String> {
    let text = match source {
        SecretSource::File(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("`{}`: {e}", path.display()))?
        }
        SecretSource::Env(name) => {
            std::env::var(name).map_err(|_| format!("`{name}` is not set"))?
        }
    };
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err("it is empty".into());
    }
    Ok(line.to_owned())
}

/// 32 random bytes, base64url: state, nonce and PKCE verifier (RFC 7636 §4.1: 43 chars).
pub fn random() -> Option<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// RFC 7636 §4.2: `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// The authorization request URL: code flow, PKCE S256, and the step-up parameters asked.
pub fn authorization_url(endpoint: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let joiner = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{joiner}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            pkce_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorization_url_keeps_the_endpoints_own_query() {
        let url = authorization_url("https://idp.example/auth?tenant=a", &[("state", "a b")]);
        assert_eq!(url, "https://idp.example/auth?tenant=a&state=a+b");
        let url = authorization_url("https://idp.example/auth", &[("x", "1")]);
        assert_eq!(url, "https://idp.example/auth?x=1");
    }
}
