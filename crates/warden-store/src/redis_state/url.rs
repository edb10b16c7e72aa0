//! Checking Redis URLs at start-up, and showing them without their password.

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};

use crate::StoreError;

/// The URL with everything after the user name in its user info replaced by `***`.
///
/// The user info is taken to end at the LAST `@`, so a password with an unescaped `@` or `/`
/// is hidden too; over-hiding a strange URL is better than printing a password.
pub(crate) fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let Some(at) = url[start..].rfind('@').map(|i| start + i) else {
        return url.to_owned();
    };
    let user_end = url[start..at].find(':').map_or(at, |i| start + i);
    let user = &url[start..user_end];
    format!("{}{user}:***{}", &url[..start], &url[at..])
}

/// Parses one URL, accepting only `redis://` and `rediss://` with certificate checks on.
pub(super) fn check(url: &str) -> Result<ConnectionInfo, StoreError> {
    let bad = |why: &str| StoreError::Url(format!("`{}`: {why}", redact(url)));
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("redis://") && !lower.starts_with("rediss://") {
        return Err(bad("the scheme must be redis:// or rediss://"));
    }
    let info = url
        .into_connection_info()
        .map_err(|e| bad(&e.to_string()))?;
    // `#insecure` would silently turn off certificate checks; insecure switches must be
    // explicit, and this one has no dangerous_* name to go with it.
    if matches!(info.addr(), ConnectionAddr::TcpTls { insecure: true, .. }) {
        return Err(bad("`#insecure` (no certificate check) is not supported"));
    }
    Ok(info)
}

/// Checks the whole list: one URL for a standalone server, at least one for a cluster.
pub(super) fn check_all(urls: &[String], cluster: bool) -> Result<Vec<ConnectionInfo>, StoreError> {
    match (urls.len(), cluster) {
        (0, _) => return Err(StoreError::Url("no redis url given".to_owned())),
        (1, false) | (_, true) => {}
        (n, false) => {
            return Err(StoreError::Url(format!(
                "a standalone redis takes one url, got {n} (set cluster for seed nodes)"
            )));
        }
    }
    urls.iter().map(|url| check(url)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords_only() {
        let cases = [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("redis://:s3cret@h:1", "redis://:***@h:1"),
            ("rediss://user:s3cret@h/2", "rediss://user:***@h/2"),
            ("redis://user@h", "redis://user:***@h"),
            ("redis://:pa/ss@w@h:1/0", "redis://:***@h:1/0"),
            ("u:s3cret@h", "u:***@h"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
    }

    #[test]
    fn check_refuses_other_schemes_and_insecure_tls() {
        assert!(check("redis://127.0.0.1:6379/0").is_ok());
        assert!(check("rediss://cache.example:6380").is_ok());
        for url in [
            "http://h",
            "unix:///tmp/redis.sock",
            "rediss://h/#insecure",
            "redis://:x@h/notanumber",
        ] {
            let err = check(url).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with("invalid url: `"), "{url}: {err}");
            assert!(!err.contains(":x@"), "{err}");
        }
    }
}
