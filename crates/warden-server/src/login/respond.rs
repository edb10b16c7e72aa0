//! Building the sign-in pages' responses.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE,
};
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;

use super::page;

/// A response of these pages.
pub type Response = http::Response<Full<Bytes>>;

/// Headers every page carries: no caching, no framing, no scripts, forms only to this site.
const PAGE_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
];

/// An HTML page with cookies to set.
pub struct Page {
    status: StatusCode,
    html: String,
    cookies: Vec<String>,
    retry_after: Option<u64>,
    /// Origins a form on this page may end up at besides this site (a provider's logout).
    form_targets: Vec<String>,
}

impl Page {
    /// A page with a status.
    pub fn new(status: StatusCode, html: String) -> Self {
        Self {
            status,
            html,
            cookies: Vec::new(),
            retry_after: None,
            form_targets: Vec::new(),
        }
    }

    /// Adds a `Set-Cookie`.
    pub fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// Lets this page's form redirect to these origins: CSP `form-action` also covers the
    /// redirects that follow a submission, so sign-out at a provider needs its origin.
    pub fn form_targets(mut self, origins: Vec<String>) -> Self {
        self.form_targets = origins;
        self
    }

    /// Adds `Retry-After`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// 302 to another site (an identity provider), with cookies; no body to speak of.
pub fn found(location: &str, cookies: Vec<String>) -> Response {
    let html = page::message(
        "Continue",
        "You are being sent to sign in.",
        Some((location, "Continue")),
    );
    let mut page = Page::new(StatusCode::FOUND, html);
    page.cookies = cookies;
    let mut response: Response = page.into();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

impl From<Page> for Response {
    fn from(page: Page) -> Response {
        let len = page.html.len();
        let mut response = http::Response::new(Full::new(Bytes::from(page.html)));
        *response.status_mut() = page.status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in PAGE_HEADERS {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        if !page.form_targets.is_empty() {
            let csp = PAGE_HEADERS[0].1.replace(
                "form-action 'self'",
                &format!("form-action 'self' {}", page.form_targets.join(" ")),
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                headers.insert(http::header::CONTENT_SECURITY_POLICY, v);
            }
        }
        for cookie in page.cookies {
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.append(SET_COOKIE, v);
            }
        }
        if let Some(seconds) = page.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// 303 to a checked address, with cookies.
pub fn see_other(location: &str, cookies: Vec<String>) -> Response {
    let html = page::message(
        "Continue",
        "You are being redirected.",
        Some((location, "Continue")),
    );
    let mut page = Page::new(StatusCode::SEE_OTHER, html);
    page.cookies = cookies;
    let mut response: Response = page.into();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// 429 before any password is checked.
pub fn throttled(seconds: u64) -> Response {
    let text = format!("Too many failed sign-in attempts. Wait {seconds} seconds and try again.");
    let mut page = Page::new(
        StatusCode::TOO_MANY_REQUESTS,
        page::message("Too many attempts", &text, None),
    );
    page.retry_after = Some(seconds);
    page.into()
}

/// 503: the store cannot be reached; nothing was judged.
pub fn unavailable() -> Response {
    let text = "Sign-in is unavailable right now. Try again shortly.";
    let mut page = Page::new(
        StatusCode::SERVICE_UNAVAILABLE,
        page::message("Unavailable", text, None),
    );
    page.retry_after = Some(5);
    page.into()
}

/// 405 for methods these pages do not take.
pub fn method_not_allowed() -> Response {
    let mut response: Response = Page::new(
        StatusCode::METHOD_NOT_ALLOWED,
        page::message("Method not allowed", "Use GET or POST.", None),
    )
    .into();
    response.headers_mut().insert(
        http::header::ALLOW,
        HeaderValue::from_static("GET, HEAD, POST"),
    );
    response
}
