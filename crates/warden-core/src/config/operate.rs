//! `[admin]`, `[audit]` and `server.watch`: how warden is watched and changed while it runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Issues;

/// `[admin]`: the operators' listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: Spanned<String>,
}

/// `[audit]`: one line per decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub file: Option<Spanned<String>>,
    pub stdout: Option<Spanned<bool>>,
    pub sample_allows: Option<Spanned<f64>>,
}

/// `[admin]`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Where `/metrics`, `/health/*` and `/config` are served; never the public listener.
    pub listen: SocketAddr,
}

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSink {
    /// Appended to a file, reopened on SIGHUP (logrotate).
    File(PathBuf),
    /// Written to standard output (the operational log is on standard error).
    Stdout,
}

/// `[audit]`, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Where the lines go.
    pub sink: AuditSink,
    /// The share of allowed decisions written (denials are always written).
    pub sample_allows: f64,
}

pub(super) fn admin(
    raw: Option<Spanned<RawAdmin>>,
    issues: &mut Issues<'_>,
) -> Option<AdminConfig> {
    let raw = raw?.into_inner();
    match raw.listen.get_ref().parse::<SocketAddr>() {
        Ok(listen) => Some(AdminConfig { listen }),
        Err(_) => {
            let hint = "expected an address like `127.0.0.1:9180`";
            issues.add("admin.listen", raw.listen.span(), hint);
            None
        }
    }
}

pub(super) fn audit(
    raw: Option<Spanned<RawAudit>>,
    base_dir: &Path,
    issues: &mut Issues<'_>,
) -> Option<AuditConfig> {
    let raw = raw?;
    let span = raw.span();
    let raw = raw.into_inner();
    let stdout = raw.stdout.as_ref().is_some_and(|s| *s.get_ref());
    let sink = match (&raw.file, stdout) {
        (Some(file), false) if !file.get_ref().is_empty() => {
            Some(AuditSink::File(base_dir.join(file.get_ref())))
        }
        (None, true) => Some(AuditSink::Stdout),
        _ => {
            let hint = "set exactly one of `file = \"…\"` and `stdout = true`";
            issues.add("audit", span, hint);
            None
        }
    };
    let sample_allows = match raw.sample_allows {
        None => 1.0,
        Some(v) if (0.0..=1.0).contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            issues.add(
                "audit.sample_allows",
                v.span(),
                "must be between 0.0 and 1.0",
            );
            1.0
        }
    };
    Some(AuditConfig {
        sink: sink?,
        sample_allows,
    })
}

impl super::Config {
    /// The files this configuration reads besides itself, whose change is a reason to reload:
    /// the JWKS file, the htpasswd file and client secrets kept in files. (Not the TLS files:
    /// the listener's certificate is loaded at start, so reloading would change nothing.)
    pub fn watched_files(&self) -> Vec<PathBuf> {
        use super::{KeySource, SecretSource};
        let mut files = Vec::new();
        if let Some(super::JwtConfig {
            source: KeySource::File(path),
            ..
        }) = &self.jwt
        {
            files.push(path.clone());
        }
        files.extend(self.htpasswd.iter().map(|h| h.path.clone()));
        let providers = self.login.iter().flat_map(|l| l.providers.iter());
        let secrets = providers
            .map(|p| &p.client_secret)
            .chain(self.introspection.iter().map(|i| &i.client_secret));
        files.extend(secrets.filter_map(|s| match s {
            SecretSource::File(path) => Some(path.clone()),
            SecretSource::Env(_) => None,
        }));
        files
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use crate::config::{AuditSink, Config};

    const BASE: &str = "version = 1\n[server]\nlisten = \"127.0.0.1:4180\"\nrealm = \"r\"\n";

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(&format!("{BASE}{extra}"), Path::new("/etc/warden"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn admin_audit_and_watch_are_off_unless_set() {
        let c = parse("").unwrap();
        assert!(c.admin.is_none() && c.audit.is_none() && !c.watch);
    }

    #[test]
    fn audit_goes_to_a_file_beside_the_config_or_to_stdout() {
        let c = parse("[audit]\nfile = \"audit.jsonl\"\nsample_allows = 0.25\n").unwrap();
        let audit = c.audit.unwrap();
        assert_eq!(
            audit.sink,
            AuditSink::File("/etc/warden/audit.jsonl".into())
        );
        assert!((audit.sample_allows - 0.25).abs() < f64::EPSILON);
        let c = parse("[audit]\nstdout = true\n").unwrap();
        assert_eq!(c.audit.unwrap().sink, AuditSink::Stdout);
    }

    #[test]
    fn bad_operating_settings_name_their_key() {
        let both = parse("[audit]\nfile = \"a\"\nstdout = true\n").unwrap_err();
        assert!(both.contains("`audit`: set exactly one of"), "{both}");
        let neither = parse("[audit]\nsample_allows = 0.5\n").unwrap_err();
        assert!(neither.contains("`audit`: set exactly one of"), "{neither}");
        let rate = parse("[audit]\nstdout = true\nsample_allows = 1.5\n").unwrap_err();
        assert!(
            rate.contains("`audit.sample_allows`: must be between"),
            "{rate}"
        );
        let admin = parse("[admin]\nlisten = \"localhost\"\n").unwrap_err();
        assert!(
            admin.contains("`admin.listen`: expected an address"),
            "{admin}"
        );
        let unknown = parse("[admin]\nlisten = \"127.0.0.1:9180\"\nauth = true\n").unwrap_err();
        assert!(unknown.contains("auth"), "{unknown}");
    }

    #[test]
    fn watched_files_are_the_files_the_config_reads() {
        let c = parse(concat!(
            "[authn.jwt]\njwks_file = \"keys/jwks.json\"\nissuer = \"i\"\naudience = \"a\"\n",
            "[authn.basic]\nhtpasswd = \"users.htpasswd\"\n",
        ))
        .unwrap();
        let files = c.watched_files();
        assert_eq!(
            files,
            vec![
                std::path::PathBuf::from("/etc/warden/keys/jwks.json"),
                std::path::PathBuf::from("/etc/warden/users.htpasswd"),
            ]
        );
    }
}
