//! What this configuration means behind nginx `auth_request`, said once at start: nginx shows
//! every auth answer but 2xx/401/403 as 500 and drops the rest of the answer.

use super::{Config, KeySource};
use crate::rules::Access;

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// nginx shows a 500 here unless the `error_page` recipe maps it back.
    Error500,
    /// The client sees a different status or loses headers without the recipe.
    Mapped,
}

/// One thing an nginx operator should know about this configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxNote {
    /// How much it matters.
    pub severity: Severity,
    /// What happens, and what to do.
    pub message: String,
}

const RECIPE: &str = "use the error_page recipe in examples/nginx";

/// The notes for `/.warden/nginx`, in file order.
pub fn nginx_notes(config: &Config) -> Vec<NginxNote> {
    let mut notes = Vec::new();
    let mut add = |severity, message: String| notes.push(NginxNote { severity, message });
    if let Some(KeySource::Url(_)) = config.jwt.as_ref().map(|j| &j.source) {
        add(
            Severity::Error500,
            format!(
                "`authn.jwt.jwks_url`: while no key can be fetched, tokens get 503, which nginx shows as 500; {RECIPE} to send 503 with Retry-After"
            ),
        );
    }
    if config.introspection.is_some() {
        add(
            Severity::Error500,
            format!(
                "`authn.introspection`: while the endpoint cannot answer, tokens get 503, which nginx shows as 500; {RECIPE} to send 503 with Retry-After"
            ),
        );
    }
    if config.basic || config.api_key_header.is_some() || config.introspection.is_some() {
        add(
            Severity::Mapped,
            format!(
                "failed-attempt throttling answers 429 as 403 (X-Warden-Status: 429); {RECIPE} to send 429 with Retry-After"
            ),
        );
        if config.network.nginx_client_header.is_none() {
            add(
                Severity::Mapped,
                "every client has nginx's address, so one client's failed attempts throttle all: set `network.nginx_client_header = \"X-Real-IP\"` with `proxy_set_header X-Real-IP $remote_addr` in the auth location".to_owned(),
            );
        }
    }
    if config.login.is_some() {
        add(
            Severity::Mapped,
            format!(
                "browser sign-in redirects arrive as 401 with Location and X-Warden-Status: 302; {RECIPE} to redirect"
            ),
        );
    }
    for rule in config.rules.rules() {
        if rule.hide && !matches!(rule.access, Access::Anyone) {
            add(
                Severity::Mapped,
                format!(
                    "rule `{}` hides its resource: 404 arrives as 403 (X-Warden-Status: 404); {RECIPE}",
                    rule.name
                ),
            );
        }
        if rule.cors.is_some() {
            add(
                Severity::Mapped,
                format!(
                    "rule `{}` answers CORS preflights with 204, which auth_request takes as \"allowed\" and passes upstream without the CORS headers; answer OPTIONS preflights in nginx or send them to warden's generic endpoint",
                    rule.name
                ),
            );
        }
    }
    notes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn each_hazard_is_named_once() {
        let text = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n\
            [authn.jwt]\njwks_url = \"https://idp/jwks\"\nissuer = \"i\"\naudience = \"a\"\n\
            [authn.basic]\n[[rule]]\nname = \"secret\"\npath = \"/s/**\"\nrequire = \"authenticated\"\nhide = true\n\
            [[rule]]\nname = \"api\"\npath = \"/api/**\"\nrequire = \"authenticated\"\n\
            cors = { origins = [\"https://app.example\"] }\n";
        let config = Config::parse(text, Path::new("/")).unwrap();
        let notes = nginx_notes(&config);
        let severities: Vec<Severity> = notes.iter().map(|n| n.severity).collect();
        assert_eq!(
            severities,
            [
                Severity::Error500,
                Severity::Mapped,
                Severity::Mapped,
                Severity::Mapped,
                Severity::Mapped,
                Severity::Mapped
            ]
        );
        assert!(notes[2].message.contains("network.nginx_client_header"));
        assert!(notes[4].message.contains("rule `secret`"));
        assert!(notes[5].message.contains("rule `api`"));
        let named = text.replace(
            "[authn.basic]",
            "[network]\nnginx_client_header = \"X-Real-IP\"\n[authn.basic]",
        );
        let config = Config::parse(&named, Path::new("/")).unwrap();
        assert_eq!(nginx_notes(&config).len(), 5);
    }

    #[test]
    fn a_plain_token_gateway_has_nothing_to_say() {
        let text = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n\
            [authn.jwt]\njwks_file = \"k.json\"\nissuer = \"i\"\naudience = \"a\"\n\
            [[rule]]\nname = \"p\"\npath = \"/**\"\nrequire = \"authenticated\"\n";
        let config = Config::parse(text, Path::new("/")).unwrap();
        assert!(nginx_notes(&config).is_empty());
    }
}
