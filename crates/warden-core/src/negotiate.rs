//! Which body a caller gets: HTML for browser navigations, problem+json for API clients,
//! plain text for the rest.

use http::{HeaderMap, header};

/// The format of a denial's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// A browser navigation: an HTML page.
    Html,
    /// `application/problem+json` (RFC 9457).
    Problem,
    /// `text/plain`.
    Plain,
}

const SEC_FETCH_MODE: http::HeaderName = http::HeaderName::from_static("sec-fetch-mode");

/// Chooses the body: `Sec-Fetch-Mode: navigate` or an `Accept` that prefers `text/html` by
/// q-value means a browser; JSON-capable clients (and clients that send no `Accept`) get a
/// problem document; the rest get text.
pub fn body_kind(headers: &HeaderMap) -> BodyKind {
    let mode = headers.get(SEC_FETCH_MODE).map(|v| v.as_bytes());
    if mode.is_some_and(|m| m.eq_ignore_ascii_case(b"navigate")) {
        return BodyKind::Html;
    }
    // Any other fetch mode is a script or a subresource: never a page, whatever it accepts.
    let scripted = mode.is_some();
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accept.is_empty() {
        return BodyKind::Problem;
    }
    let html = quality(&accept, "text", "html", false);
    let json = quality(&accept, "application", "json", true).max(quality(
        &accept,
        "application",
        "problem+json",
        true,
    ));
    let text = quality(&accept, "text", "plain", true);
    if html > 0.0 && html > json && !scripted {
        BodyKind::Html
    } else if json > 0.0 && json >= text {
        BodyKind::Problem
    } else {
        BodyKind::Plain
    }
}

/// The q-value given to `kind/sub`; wildcards count only when `wildcards` is set, so that
/// `*/*` alone never makes a client a browser.
fn quality(accept: &[&str], kind: &str, sub: &str, wildcards: bool) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (k.eq_ignore_ascii_case(kind), s.eq_ignore_ascii_case(sub)) {
            (true, true) => 2,
            (true, false) if s == "*" && wildcards => 1,
            (false, false) if k == "*" && s == "*" && wildcards => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(spec, _)| specificity > spec) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn kind(accept: Option<&'static str>, mode: Option<&'static str>) -> BodyKind {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_static(a));
        }
        if let Some(m) = mode {
            h.insert("sec-fetch-mode", HeaderValue::from_static(m));
        }
        body_kind(&h)
    }

    #[test]
    fn browsers_apis_and_others() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert_eq!(kind(Some(chrome), None), BodyKind::Html);
        assert_eq!(kind(Some("*/*"), Some("navigate")), BodyKind::Html);
        assert_eq!(kind(Some("*/*"), Some("cors")), BodyKind::Problem);
        assert_eq!(kind(None, None), BodyKind::Problem);
        assert_eq!(kind(Some("application/json"), None), BodyKind::Problem);
        assert_eq!(
            kind(Some("text/html;q=0.5, application/json"), None),
            BodyKind::Problem
        );
        assert_eq!(kind(Some("text/plain"), None), BodyKind::Plain);
        assert_eq!(kind(Some("image/png"), None), BodyKind::Plain);
    }
}
