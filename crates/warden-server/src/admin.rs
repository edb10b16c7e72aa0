//! The admin listener (`[admin] listen`): `/metrics`, `/health/live`, `/health/ready` and
//! `/config`, for operators and their tools only. It is a separate socket, never the public
//! listener, and judges nothing.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::live::Live;
use crate::serve::plain;

/// What replaces a secret in `/config`.
const REDACTED: &str = "[redacted]";

/// Serves the admin endpoints until the process ends.
pub async fn serve(listener: TcpListener, live: Arc<Live>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(10));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let live = Arc::clone(&live);
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&live), req));
            let io = TokioIo::new(stream);
            let _ = builder.serve_connection(io, service).await;
        });
    }
}

async fn answer(
    live: Arc<Live>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    let mut response = match req.uri().path() {
        "/metrics" => metrics(),
        "/health/live" => plain(StatusCode::OK, "ok\n"),
        "/health/ready" => ready(&live).await,
        "/config" => config(&live),
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    if head {
        *response.body_mut() = Full::new(Bytes::new());
    }
    Ok(response)
}

fn metrics() -> Response<Full<Bytes>> {
    let text = crate::metrics::render().unwrap_or_default();
    let mut r = plain(StatusCode::OK, text);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Ready: the configuration is loaded and every dependency it needs answers. A failed reload
/// does not make it unready (the previous configuration still serves) but is named.
async fn ready(live: &Live) -> Response<Full<Bytes>> {
    let health = live.app().health().await;
    let status = live.status();
    let mut body = if health.is_up() {
        "ready\n"
    } else {
        "not ready\n"
    }
    .to_owned();
    for line in health.body().lines().skip(1) {
        body.push_str(line);
        body.push('\n');
    }
    body.push_str(&format!("config: {}\n", status.hash));
    if let Some(why) = &status.last_failure {
        body.push_str(&format!("last reload failed: {why}\n"));
    }
    if health.is_up() {
        return plain(StatusCode::OK, body);
    }
    let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, body);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// The configuration in force, as JSON, secrets redacted.
fn config(live: &Live) -> Response<Full<Bytes>> {
    let status = live.status();
    let mut config = (status.text.parse::<toml::Table>())
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(Value::Null);
    redact(&mut config, "");
    let body = serde_json::json!({
        "path": live.path().display().to_string(),
        "hash": status.hash,
        "config": config,
    });
    let mut r = plain(StatusCode::OK, format!("{body:#}\n"));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Replaces secrets: values under secret-sounding keys, and passwords inside URLs.
fn redact(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact(v, k)),
        Value::Array(_) if is_secret_key(key) => *value = Value::String(REDACTED.to_owned()),
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, key)),
        Value::String(text) if is_secret_key(key) => *text = REDACTED.to_owned(),
        Value::String(text) => {
            if let Some(redacted) = redact_url(text) {
                *text = redacted;
            }
        }
        _ if is_secret_key(key) => *value = Value::String(REDACTED.to_owned()),
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["client_secret", "password", "secret", "token"].contains(&key.as_str())
        || ["_secret", "_password", "_token"]
            .iter()
            .any(|s| key.ends_with(s))
}

/// `text` with the password of `url` (if it has one) replaced, for logs.
pub(crate) fn without_password(text: &str, url: &str) -> String {
    match redact_url(url) {
        Some(hidden) => text.replace(url, &hidden),
        None => text.to_owned(),
    }
}

/// `scheme://user:password@host…` with the password replaced; `None` when there is none.
fn redact_url(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (userinfo, after) = rest[..authority_end].rsplit_once('@')?;
    let (user, _password) = userinfo.split_once(':')?;
    Some(format!(
        "{scheme}://{user}:{REDACTED}@{after}{}",
        &rest[authority_end..]
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_nothing_else() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/warden?sslmode=require").as_deref(),
            Some("postgres://app:[redacted]@db:5432/warden?sslmode=require")
        );
        assert_eq!(
            redact_url("redis://:pw@cache:6379/0").as_deref(),
            Some("redis://:[redacted]@cache:6379/0")
        );
        assert_eq!(redact_url("redis://cache:6379"), None);
        assert_eq!(redact_url("https://idp.example/a@b"), None);
        assert_eq!(redact_url("/etc/warden/jwks.json"), None);
    }

    #[test]
    fn secret_keys_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({
            "store": {"url": "postgres://u:pw@h/db"},
            "authn": {"oidc": [{"client_secret": "x", "client_secret_file": "s.txt"}]},
            "x": {"api_token": 5, "name": "ok"}
        });
        redact(&mut v, "");
        assert_eq!(v["store"]["url"], "postgres://u:[redacted]@h/db");
        assert_eq!(v["authn"]["oidc"][0]["client_secret"], REDACTED);
        assert_eq!(v["authn"]["oidc"][0]["client_secret_file"], "s.txt");
        assert_eq!(v["x"]["api_token"], REDACTED);
        assert_eq!(v["x"]["name"], "ok");
    }
}
