//! Return addresses after login: same-origin paths, or origins on the allow-list. Anything that
//! a browser could read as another host (`//host`, `/\host`, `https:host`) is refused.

/// Where to send the browser after login, or `None` when `rd` is not a safe address.
///
/// `own_origin` is this gateway's origin as the browser sees it (`https://app.example`);
/// `allowed` are extra origins from `login.redirect_origins`, lowercase, without trailing `/`.
pub fn safe_return(rd: &str, own_origin: Option<&str>, allowed: &[String]) -> Option<String> {
    if rd.is_empty() || rd.chars().any(|c| c.is_control() || c == '\\' || c == ' ') {
        return None;
    }
    if rd.starts_with('/') {
        return (!rd.starts_with("//")).then(|| rd.to_owned());
    }
    let (scheme, rest) = rd.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let origin = format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    );
    let ours = own_origin.is_some_and(|o| o.eq_ignore_ascii_case(&origin));
    (ours || allowed.contains(&origin)).then(|| rd.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_pass() {
        for rd in ["/", "/private/x?y=1#z", "/a/b/"] {
            assert_eq!(safe_return(rd, None, &[]).as_deref(), Some(rd));
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        let allowed = vec!["https://app.example".to_owned()];
        for rd in [
            "//evil.example",
            "/\\evil.example",
            "https:evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "https://app.example@evil.example/",
            "",
            "/a\nb",
            "http://app.example/",
            "data:text/html,x",
            "\\\\evil",
            "https://app.example.evil.example/",
        ] {
            assert_eq!(
                safe_return(rd, Some("https://gw.example"), &allowed),
                None,
                "{rd:?}"
            );
        }
    }

    #[test]
    fn own_and_listed_origins_pass() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(safe_return("https://app.example/x", None, &allowed).is_some());
        assert!(safe_return("HTTPS://APP.example", None, &allowed).is_some());
        assert!(safe_return("https://gw.example/p", Some("https://gw.example"), &[]).is_some());
    }
}
