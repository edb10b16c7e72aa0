//! Request ids from the proxy in front: `X-Request-Id`, or the trace id of a W3C
//! `traceparent`. Only values of a safe shape are taken, so an id can be logged, put in a JSON
//! body and passed upstream without escaping.

use http::HeaderMap;

/// `X-Request-Id`.
pub const X_REQUEST_ID: &str = "x-request-id";
/// W3C Trace Context.
pub const TRACEPARENT: &str = "traceparent";

/// Longest `X-Request-Id` taken.
const MAX_LEN: usize = 128;

/// The request id the headers carry: a well-formed `X-Request-Id`, else the trace id of a
/// well-formed `traceparent`. The caller decides whether the sender is trusted.
pub fn read(headers: &HeaderMap) -> Option<String> {
    let one = |name: &str| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().ok(),
            _ => None,
        }
    };
    if let Some(id) = one(X_REQUEST_ID).filter(|v| is_request_id(v)) {
        return Some(id.to_owned());
    }
    one(TRACEPARENT).and_then(trace_id).map(str::to_owned)
}

/// Visible ASCII without space, `"` or `\`, 1 to 128 characters.
fn is_request_id(value: &str) -> bool {
    (1..=MAX_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// The trace id of a `traceparent` of version `00`: `00-<32 hex>-<16 hex>-<2 hex>`, lowercase,
/// ids not all zero (W3C Trace Context §3.2).
pub fn trace_id(value: &str) -> Option<&str> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    let ok = version == "00"
        && parts.next().is_none()
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && !zero(trace)
        && !zero(parent);
    ok.then_some(trace)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn request_id_wins_over_traceparent() {
        let h = headers(&[(X_REQUEST_ID, "req-42"), (TRACEPARENT, TP)]);
        assert_eq!(read(&h).as_deref(), Some("req-42"));
        let h = headers(&[(TRACEPARENT, TP)]);
        assert_eq!(
            read(&h).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn malformed_or_repeated_values_are_ignored() {
        let long = "a".repeat(129);
        for bad in ["", "a b", "x\"y", "x\\y", "é", long.as_str()] {
            let h = headers(&[(X_REQUEST_ID, bad)]);
            assert_eq!(read(&h), None, "{bad:?}");
        }
        let h = headers(&[(X_REQUEST_ID, "a"), (X_REQUEST_ID, "b")]);
        assert_eq!(read(&h), None);
        for bad in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }
}
