//! Helpers shared by the benchmark binaries (`baseline`, `axum-peer`, `mint`) and benches.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// `--name value` and `--flag` arguments; nothing positional.
pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Reads the process arguments; exits with a message on anything unexpected.
    pub fn from_env(flags: &[&str]) -> Self {
        let mut values = HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                fail(&format!("unexpected argument `{arg}`"));
            };
            if flags.contains(&name) {
                values.insert(name.to_owned(), String::new());
            } else if let Some(v) = it.next() {
                values.insert(name.to_owned(), v);
            } else {
                fail(&format!("`--{name}` needs a value"));
            }
        }
        Self { values }
    }

    /// A value, or the default.
    pub fn get<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.values.get(name).map_or(default, String::as_str)
    }

    /// A required value.
    pub fn need(&self, name: &str) -> &str {
        match self.values.get(name) {
            Some(v) => v,
            None => fail(&format!("`--{name}` is required")),
        }
    }

    /// A parsed value, or the default.
    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.values.get(name) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| fail(&format!("`--{name}`: bad number `{v}`"))),
        }
    }

    /// An optional value.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether a flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Prints the message and exits with status 2.
pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// The DER inside a PEM file (the first block).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD
        .decode(body.trim())
        .map_err(|e| format!("bad PEM: {e}"))
}

/// A one-key JWKS (EC P-256, ES256) for the uncompressed public point `04 || x || y`.
pub fn jwks_for_point(point: &[u8], kid: &str) -> Result<String, String> {
    if point.len() != 65 || point[0] != 4 {
        return Err("expected an uncompressed P-256 point".into());
    }
    let jwks = serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    }]});
    serde_json::to_string_pretty(&jwks).map_err(|e| e.to_string())
}

/// The claims every benchmark token carries: what the warden configuration, the axum peer and
/// the Express peer check (`iss`, `aud`, `exp`, `sub`, `roles`), plus a `jti` that makes each
/// minted token distinct.
pub fn claims(iss: &str, aud: &str, sub: &str, roles: &[&str], jti: u64, now: u64, ttl: u64) -> serde_json::Value {
    serde_json::json!({
        "iss": iss, "aud": aud, "sub": sub, "roles": roles,
        "iat": now, "exp": now + ttl, "jti": format!("{jti:08}"),
    })
}
