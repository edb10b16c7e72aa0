//! Reading credentials off a request: which kind was sent, and whether the sending is well-formed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Credential headers larger than this are refused with 431.
pub const MAX_CREDENTIAL_HEADER: usize = 8 * 1024;

/// The credential headers of a request, raw.
#[derive(Debug, Clone, Default)]
pub struct RawCredentials {
    /// Every `Authorization` field line.
    pub authorization: Vec<Vec<u8>>,
    /// Every API-key header field line.
    pub api_key: Vec<Vec<u8>>,
    /// Whether the query carries `access_token`.
    pub query_token: bool,
    /// Size of the largest `Cookie` field line.
    pub largest_cookie: usize,
    /// The session cookie, if any.
    pub session: Option<String>,
}

/// The credential a request presents, once its syntax is known to be sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// Nothing we read.
    Nothing,
    /// An `Authorization` scheme we do not speak (`Negotiate`, `Digest`, …).
    UnsupportedScheme,
    /// `Authorization: Bearer <b64token>`.
    Bearer(String),
    /// `Authorization: Basic` with a user and password.
    Basic { user: String, password: String },
    /// `Authorization: Basic` whose payload is not base64 of `user:password`.
    BadBasic,
    /// The configured API-key header.
    ApiKeyHeader(String),
    /// A session cookie (only when nothing else is sent: a header wins over a cookie).
    Session(String),
}

/// A credential sending that is refused before anything is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendingError {
    /// A credential header over the size limit (431).
    #[error("credential header too large")]
    TooLarge,
    /// Credentials sent more than one way (400).
    #[error("credentials sent more than one way")]
    Multiple,
    /// An `Authorization` header that breaks the grammar (400).
    #[error("malformed authorization header")]
    Malformed,
}

/// Oversized credential headers, checked before anything else is read.
pub fn check_sizes(raw: &RawCredentials) -> Result<(), SendingError> {
    let largest = raw
        .authorization
        .iter()
        .chain(&raw.api_key)
        .map(Vec::len)
        .chain(std::iter::once(raw.largest_cookie))
        .max()
        .unwrap_or(0);
    if largest > MAX_CREDENTIAL_HEADER {
        return Err(SendingError::TooLarge);
    }
    Ok(())
}

/// Which credential the request presents; errors when it is sent twice or malformed.
pub fn extract(raw: &RawCredentials) -> Result<Presented, SendingError> {
    let ways = raw.authorization.len() + raw.api_key.len() + usize::from(raw.query_token);
    if ways > 1 {
        return Err(SendingError::Multiple);
    }
    if let Some(value) = raw.authorization.first() {
        return parse_authorization(value);
    }
    if let Some(value) = raw.api_key.first() {
        let key = std::str::from_utf8(value).map_err(|_| SendingError::Malformed)?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SendingError::Malformed);
        }
        return Ok(Presented::ApiKeyHeader(key.to_owned()));
    }
    if let Some(token) = &raw.session {
        return Ok(Presented::Session(token.clone()));
    }
    // `access_token` in the query is refused unless enabled: it counts as no credential.
    Ok(Presented::Nothing)
}

/// Whether a bearer value has the shape of a compact JWS (RFC 7515 §7.1): three base64url
/// parts, the header and payload non-empty. Only the shape: nothing is decoded. (An empty
/// signature still counts, so an unsecured JWT is refused as a JWT, not sent elsewhere.)
pub fn is_compact_jws(token: &str) -> bool {
    let b64url =
        |part: &str| (part.bytes()).all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => {
            !header.is_empty()
                && !payload.is_empty()
                && [header, payload, signature].into_iter().all(b64url)
        }
        _ => false,
    }
}

/// Whether a query string carries `access_token` under any spelling a server would decode to
/// that name: percent-escapes (`access%5Ftoken`), `;` between pairs, `access_token[]`.
pub fn query_has_access_token(query: &str) -> bool {
    query.split(['&', ';']).any(|pair| {
        let name = decode_query_name(pair.split('=').next().unwrap_or_default());
        name.split(|b| *b == b'[').next() == Some(b"access_token".as_slice())
    })
}

/// `application/x-www-form-urlencoded` decoding of one name; a broken escape stays as sent.
fn decode_query_name(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |k: usize| bytes.get(k).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn parse_authorization(value: &[u8]) -> Result<Presented, SendingError> {
    let value = std::str::from_utf8(value).map_err(|_| SendingError::Malformed)?;
    let scheme_len = value.bytes().take_while(|b| is_tchar(*b)).count();
    if scheme_len == 0 {
        return Err(SendingError::Malformed);
    }
    let (scheme, rest) = value.split_at(scheme_len);
    let param = match rest.strip_prefix(' ') {
        Some(p) => Some(p.trim_start_matches(' ')),
        None if rest.is_empty() => None,
        None => return Err(SendingError::Malformed),
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        return match param {
            Some(token) if is_token68(token) => Ok(Presented::Bearer(token.to_owned())),
            _ => Err(SendingError::Malformed),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        return Ok(param.and_then(decode_basic).unwrap_or(Presented::BadBasic));
    }
    Ok(Presented::UnsupportedScheme)
}

fn decode_basic(param: &str) -> Option<Presented> {
    if !is_token68(param) {
        return None;
    }
    let bytes = STANDARD.decode(param).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    if text.chars().any(char::is_control) {
        return None;
    }
    Some(Presented::Basic {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The bytes of a `token68` before its trailing `=`s, as a table: every request's token is
/// checked byte by byte, and a JWT is hundreds of bytes.
const TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

/// RFC 9110 §11.2 `token68`, which is also RFC 6750's `b64token`.
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| TOKEN68[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_table_is_rfc_9110_alphabet() {
        for b in 0..=255u8 {
            let rfc = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(TOKEN68[usize::from(b)], rfc, "byte {b:#04x}");
        }
        assert!(is_token68("abc.DEF-_~+/9=="));
        assert!(!is_token68("=="));
        assert!(!is_token68("a=b"));
        assert!(!is_token68("a b"));
    }

    fn auth(v: &str) -> Result<Presented, SendingError> {
        extract(&RawCredentials {
            authorization: vec![v.as_bytes().to_vec()],
            ..RawCredentials::default()
        })
    }

    #[test]
    fn bearer_grammar() {
        assert_eq!(auth("bearer abc"), Ok(Presented::Bearer("abc".into())));
        assert_eq!(auth("Bearer  abc=="), Ok(Presented::Bearer("abc==".into())));
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer =abc",
            "Bearer\tabc",
            "Bearer a\"b",
            "(x) y",
        ] {
            assert_eq!(auth(bad), Err(SendingError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn basic_payloads() {
        assert_eq!(
            auth("Basic YWxpY2U6cHc6eA=="),
            Ok(Presented::Basic {
                user: "alice".into(),
                password: "pw:x".into()
            })
        );
        assert_eq!(
            auth("Basic Og=="),
            Ok(Presented::Basic {
                user: String::new(),
                password: String::new()
            })
        );
        for bad in ["Basic dXNlcg==", "Basic ####", "Basic", "BASIC YQ"] {
            assert_eq!(auth(bad), Ok(Presented::BadBasic), "{bad:?}");
        }
    }

    #[test]
    fn other_schemes_are_unsupported() {
        assert_eq!(auth("Negotiate YIIB"), Ok(Presented::UnsupportedScheme));
        assert_eq!(
            auth("Digest username=\"a\""),
            Ok(Presented::UnsupportedScheme)
        );
    }

    #[test]
    fn more_than_one_way_is_refused() {
        let two_lines = RawCredentials {
            authorization: vec![b"Bearer a".to_vec(), b"Bearer b".to_vec()],
            ..RawCredentials::default()
        };
        assert_eq!(extract(&two_lines), Err(SendingError::Multiple));
        let header_and_key = RawCredentials {
            authorization: vec![b"Bearer a".to_vec()],
            api_key: vec![b"wdn_x".to_vec()],
            ..RawCredentials::default()
        };
        assert_eq!(extract(&header_and_key), Err(SendingError::Multiple));
        let header_and_query = RawCredentials {
            authorization: vec![b"Bearer a".to_vec()],
            query_token: true,
            ..RawCredentials::default()
        };
        assert_eq!(extract(&header_and_query), Err(SendingError::Multiple));
    }

    #[test]
    fn access_token_in_the_query_under_any_spelling() {
        for q in [
            "access_token=x",
            "a=1&access_token",
            "access%5Ftoken=x",
            "%61ccess_token=x",
            "a=1;access_token=x",
            "access_token[]=x",
        ] {
            assert!(query_has_access_token(q), "{q}");
        }
        for q in [
            "",
            "access_tokens=x",
            "x=access_token",
            "access%255Ftoken=x",
            "access_token%",
        ] {
            assert!(!query_has_access_token(q), "{q}");
        }
    }

    #[test]
    fn compact_jws_shape() {
        for jws in ["eyJh.eyJz.c2ln", "a.b.", "A-_9.b.c"] {
            assert!(is_compact_jws(jws), "{jws}");
        }
        for other in [
            "opaque", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.c=", "a+b.c.d", "a/b.c.d",
        ] {
            assert!(!is_compact_jws(other), "{other}");
        }
    }

    #[test]
    fn oversized_headers() {
        let big = RawCredentials {
            largest_cookie: MAX_CREDENTIAL_HEADER + 1,
            ..RawCredentials::default()
        };
        assert_eq!(check_sizes(&big), Err(SendingError::TooLarge));
        assert_eq!(check_sizes(&RawCredentials::default()), Ok(()));
    }
}
