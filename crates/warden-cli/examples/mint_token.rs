//! Mints a signed JWT for trying warden out (quickstart and tests). Not part of the product.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// Mint a demo token.
#[derive(Parser)]
struct Args {
    /// PKCS#8 PEM private key (EC P-256).
    #[arg(long)]
    key: std::path::PathBuf,
    /// Key id to put in the header.
    #[arg(long)]
    kid: String,
    /// Issuer.
    #[arg(long)]
    iss: String,
    /// Audience.
    #[arg(long)]
    aud: String,
    /// Subject.
    #[arg(long, default_value = "alice")]
    sub: String,
    /// Comma-separated roles.
    #[arg(long, default_value = "")]
    roles: String,
    /// Space-separated scopes.
    #[arg(long, default_value = "")]
    scope: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    #[expect(
        clippy::disallowed_methods,
        reason = "a dev tool stamping a token with the real time"
    )]
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let roles: Vec<&str> = args.roles.split(',').filter(|r| !r.is_empty()).collect();
    let claims = serde_json::json!({
        "iss": args.iss, "aud": args.aud, "sub": args.sub, "roles": roles,
        "scope": args.scope, "iat": now, "exp": now + args.ttl,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(args.kid);
    let key = EncodingKey::from_ec_pem(&std::fs::read(&args.key)?)?;
    println!("{}", jsonwebtoken::encode(&header, &claims, &key)?);
    Ok(())
}
