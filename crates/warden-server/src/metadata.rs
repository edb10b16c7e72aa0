//! The protected resource metadata of RFC 9728 at its well-known path (with `[server]
//! resource` only; otherwise the path is judged like any other). Public and cacheable: it is
//! not a decision, so it carries no decision id and no `no-store`.

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

use crate::app::App;

/// The answer when `path` is the metadata's, or `None` to go on as usual.
pub fn answer(app: &App, path: &str, method: &Method) -> Option<Response<Full<Bytes>>> {
    let resource = app.engine().config().resource.as_ref()?;
    if path != resource.metadata_path {
        return None;
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = crate::serve::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(r);
    }
    let document = &resource.document;
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(document.clone())
    };
    let mut r = Response::new(Full::new(body));
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(document.len()));
    Some(r)
}
