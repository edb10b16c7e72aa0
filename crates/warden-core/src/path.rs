//! Path normalization: the one form rules are matched against, so no spelling bypasses a rule.

/// Why a path cannot be judged safely (answered with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not an origin-form path starting with `/`.
    #[error("path does not start with `/`")]
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    #[error("broken percent-encoding")]
    BadEscape,
    /// `%2F`, `%5C`, `%00`, a backslash or a control character: a backend might read it differently.
    #[error("path contains an encoded separator or a control character")]
    Ambiguous,
}

/// Normalizes a request path (no query): decodes unreserved percent-escapes, uppercases the
/// others, drops `;parameters`, empty and `.` segments, resolves `..`, keeps a trailing slash.
pub fn normalize(raw: &str) -> Result<String, PathError> {
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(PathError::NotAbsolute);
    };
    // Kept segments are written straight into `out`; no segment holds a `/` (an encoded one
    // is refused), so `..` drops everything from the last `/`.
    let mut out = String::with_capacity(raw.len() + 1);
    let mut segment = String::with_capacity(rest.len());
    let mut trailing_slash = false;
    let mut pieces = rest.split('/').peekable();
    while let Some(raw_segment) = pieces.next() {
        let last = pieces.peek().is_none();
        segment.clear();
        decode_segment(raw_segment, &mut segment)?;
        // `/admin;x` is `/admin` to many backends (matrix parameters): match it as such.
        match segment.split(';').next().unwrap_or_default() {
            "" | "." => trailing_slash = last && !out.is_empty(),
            ".." => {
                out.truncate(out.rfind('/').unwrap_or(0));
                trailing_slash = last && !out.is_empty();
            }
            kept => {
                out.push('/');
                out.push_str(kept);
                trailing_slash = false;
            }
        }
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Ok(out)
}

fn decode_segment(raw: &str, out: &mut String) -> Result<(), PathError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let byte = hex_pair(bytes.get(i + 1..i + 3)).ok_or(PathError::BadEscape)?;
            push_decoded(out, byte)?;
            i += 3;
            continue;
        }
        if b == b'\\' || b.is_ascii_control() {
            return Err(PathError::Ambiguous);
        }
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            // Raw UTF-8 (from a forwarded header) takes the escaped form a browser would send.
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    Ok(())
}

fn push_decoded(out: &mut String, byte: u8) -> Result<(), PathError> {
    if matches!(byte, b'/' | b'\\') || byte.is_ascii_control() {
        return Err(PathError::Ambiguous);
    }
    if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
        out.push(char::from(byte));
    } else {
        out.push_str(&format!("%{byte:02X}"));
    }
    Ok(())
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let pair = pair?;
    let hi = char::from(*pair.first()?).to_digit(16)?;
    let lo = char::from(*pair.get(1)?).to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_escaped_utf8_normalize_alike() {
        let escaped = normalize("/caf%c3%a9").unwrap();
        assert_eq!(escaped, "/caf%C3%A9");
        assert_eq!(normalize("/café").unwrap(), escaped);
        // Found by the `path` fuzz target: the result must be a fixed point.
        let once = normalize("/ad\u{550}n.pr").unwrap();
        assert_eq!(normalize(&once).unwrap(), once);
    }

    #[test]
    fn spellings_of_admin_all_normalize_to_admin() {
        for raw in [
            "/admin",
            "//admin",
            "/%61dmin",
            "/./admin",
            "/x/../admin",
            "/private/../admin",
            "/admin;jsessionid=1",
            "/%2e%2e/admin",
            "/admin/.",
        ] {
            let got = normalize(raw);
            assert!(
                got.as_deref() == Ok("/admin") || got.as_deref() == Ok("/admin/"),
                "{raw} -> {got:?}"
            );
        }
    }

    #[test]
    fn trailing_slash_and_root_are_kept() {
        assert_eq!(normalize("/a/b/").as_deref(), Ok("/a/b/"));
        assert_eq!(normalize("/").as_deref(), Ok("/"));
        assert_eq!(normalize("/..").as_deref(), Ok("/"));
        assert_eq!(normalize("/a/%7e%41").as_deref(), Ok("/a/~A"));
    }

    #[test]
    fn reserved_escapes_stay_encoded_uppercase() {
        assert_eq!(normalize("/a%20b/%3f").as_deref(), Ok("/a%20b/%3F"));
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for raw in ["/admin%2Fx", "/a%5Cb", "/a%00", "/a\\b", "/a%0a", "/a%7f"] {
            assert_eq!(normalize(raw), Err(PathError::Ambiguous), "{raw}");
        }
        assert_eq!(normalize("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(normalize("/a%4"), Err(PathError::BadEscape));
        assert_eq!(normalize("*"), Err(PathError::NotAbsolute));
    }
}
