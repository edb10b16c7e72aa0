//! The peer a Rust user writes without warden: axum + jsonwebtoken, ES256 keys from a JWKS file.
//!
//! `axum-peer --port P --jwks FILE --issuer ISS --audience AUD [--realm R]`
//!
//! - `GET /private/{*rest}`: a valid token (signature, `exp`, `iss`, `aud`) → 200, otherwise
//!   401 with `WWW-Authenticate: Bearer realm="R"` (plus `error="invalid_token"` for a bad one).
//! - `GET /admin/{*rest}`: as above, and the `roles` claim must hold `admin` → otherwise 403.
//!
//! Every token's signature is checked on every request (no cache), as in the usual examples.
//! Same runtime as warden: tokio multi-thread, one worker per CPU the process may use.

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;
use warden_bench::{Args, fail};

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
}

struct Auth {
    key: DecodingKey,
    validation: Validation,
    challenge: HeaderValue,
    invalid: HeaderValue,
}

/// An authenticated caller.
struct User(Claims);

impl FromRequestParts<Arc<Auth>> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Self, Response> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(&auth.challenge));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized(&auth.challenge))?;
        match decode::<Claims>(token, &auth.key, &auth.validation) {
            Ok(data) => Ok(User(data.claims)),
            Err(_) => Err(unauthorized(&auth.invalid)),
        }
    }
}

fn unauthorized(challenge: &HeaderValue) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge.clone())],
        "unauthorized\n",
    )
        .into_response()
}

async fn private(User(claims): User) -> Response {
    ([("x-auth-subject", claims.sub)], "ok\n").into_response()
}

async fn admin(User(claims): User) -> Response {
    if claims.roles.iter().any(|r| r == "admin") {
        ([("x-auth-subject", claims.sub)], "ok\n").into_response()
    } else {
        (StatusCode::FORBIDDEN, "forbidden\n").into_response()
    }
}

fn auth(args: &Args) -> Result<Auth, String> {
    let jwks = std::fs::read_to_string(args.need("jwks")).map_err(|e| e.to_string())?;
    let set: JwkSet = serde_json::from_str(&jwks).map_err(|e| e.to_string())?;
    let jwk = set.keys.first().ok_or("the JWKS has no key")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[args.need("issuer")]);
    validation.set_audience(&[args.need("audience")]);
    validation.leeway = 30;
    let realm = args.get("realm", "bench");
    let challenge = HeaderValue::from_str(&format!("Bearer realm=\"{realm}\""))
        .map_err(|e| e.to_string())?;
    let invalid = HeaderValue::from_str(&format!(
        "Bearer realm=\"{realm}\", error=\"invalid_token\""
    ))
    .map_err(|e| e.to_string())?;
    Ok(Auth {
        key,
        validation,
        challenge,
        invalid,
    })
}

fn main() {
    let args = Args::from_env(&[]);
    let port: u16 = args.num("port", 8092);
    let auth = Arc::new(auth(&args).unwrap_or_else(|e| fail(&e)));
    let app = Router::new()
        .route("/private/{*rest}", get(private))
        .route("/admin/{*rest}", get(admin))
        .with_state(auth);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| fail(&format!("bind 127.0.0.1:{port}: {e}")));
        if let Err(e) = axum::serve(listener, app).await {
            fail(&format!("serve: {e}"));
        }
    });
}
