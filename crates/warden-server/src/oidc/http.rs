//! Talking to an identity provider: bounded in time and size, never following redirects.

use std::time::Duration;

use serde_json::{Map, Value};

/// A whole call to a provider (connect, send, read) may take this long.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest document accepted from a provider (discovery, JWKS, token responses).
const MAX_BYTES: usize = 256 * 1024;

/// Why a call to the provider did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No answer: connection refused, timeout, reset, TLS failure, or a 5xx.
    #[error("the provider is unreachable: {0}")]
    Down(String),
    /// An answer, but not a usable one (bad JSON, too large, unexpected status).
    #[error("the provider's answer is unusable: {0}")]
    Bad(String),
}

/// The client for every provider call.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CALL_TIMEOUT)
        .connect_timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| e.without_url().to_string())
}

/// `GET url` for a JSON object; only 200 counts.
pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
) -> Result<Map<String, Value>, CallError> {
    let response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(down)?;
    let status = response.status();
    let body = read(response).await?;
    if status.is_server_error() {
        return Err(CallError::Down(format!("status {status}")));
    }
    if status != reqwest::StatusCode::OK {
        return Err(CallError::Bad(format!("status {status}")));
    }
    object(&body)
}

/// `POST url` with a form and client_secret_basic; the status and the JSON object answered.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    basic: (&str, &str),
    form: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, Map<String, Value>), CallError> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = client
        .post(url)
        .header(http::header::AUTHORIZATION, client_basic(basic.0, basic.1))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(down)?;
    let status = response.status();
    let bytes = read(response).await?;
    if status.is_server_error() {
        return Err(CallError::Down(format!("status {status}")));
    }
    Ok((status, object(&bytes)?))
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
fn client_basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn read(response: reqwest::Response) -> Result<Vec<u8>, CallError> {
    read_limited(response, MAX_BYTES).await
}

/// The whole body, refused as soon as it passes `max` bytes (never buffered beyond that).
pub async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, CallError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(down)? {
        if body.len() + chunk.len() > max {
            let why = format!("answer larger than {}", size(max));
            return Err(CallError::Bad(why));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `1 MiB`, `256 KiB`.
fn size(bytes: usize) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, CallError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(CallError::Bad("not a JSON object".into())),
    }
}

fn down(e: reqwest::Error) -> CallError {
    CallError::Down(e.without_url().to_string())
}
