//! Reading cookies off `Cookie` header lines: just enough to find a named value.

use http::{HeaderMap, header};

/// The session cookie over plain http (loopback development).
pub const SESSION: &str = "warden_session";
/// The session cookie over https: the `__Host-` prefix pins it to this host, path `/`, Secure.
pub const SESSION_HOST: &str = "__Host-warden_session";
/// Set for a minute after a sign-in, so a browser that does not send the session back gets an
/// explanation instead of another trip to the login page.
pub const LOGIN_MARKER: &str = "warden_signed_in";

/// The first value of cookie `name` across all `Cookie` lines.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The session token, preferring the `__Host-` cookie.
pub fn session(headers: &HeaderMap) -> Option<&str> {
    value(headers, SESSION_HOST)
        .or_else(|| value(headers, SESSION))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_values_across_lines_and_prefers_host_prefix() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; warden_session=plain"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-warden_session=\"hosted\";b=2"),
        );
        assert_eq!(value(&h, "a"), Some("1"));
        assert_eq!(value(&h, "b"), Some("2"));
        assert_eq!(value(&h, "warden"), None);
        assert_eq!(session(&h), Some("hosted"));
    }
}
