//! Mints ES256 tokens for the benchmark key, one per line.
//!
//! `mint --key PEM --kid K --issuer ISS --audience AUD --out FILE [--count N] [--sub S]
//!  [--roles a,b] [--ttl SECONDS] [--jwks FILE]`
//!
//! With `--count 1` the token's subject is `S`; otherwise token `i` has subject `S-i`. Every
//! token has a distinct `jti`. `--jwks` also writes the public key as a one-key JWKS.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use warden_bench::{Args, claims, fail, jwks_for_point, pem_to_der};

fn main() {
    let args = Args::from_env(&[]);
    if let Err(e) = run(&args) {
        fail(&e);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let pem = std::fs::read_to_string(args.need("key")).map_err(|e| e.to_string())?;
    let der = pem_to_der(&pem)?;
    let kid = args.need("kid");
    if let Some(path) = args.opt("jwks") {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| format!("not an EC P-256 PKCS#8 key: {e}"))?;
        let jwks = jwks_for_point(pair.public_key().as_ref(), kid)?;
        std::fs::write(path, jwks + "\n").map_err(|e| e.to_string())?;
    }
    let key = EncodingKey::from_ec_der(&der);
    let count: u64 = args.num("count", 1);
    let ttl: u64 = args.num("ttl", 6 * 3600);
    let (iss, aud, sub) = (
        args.need("issuer"),
        args.need("audience"),
        args.get("sub", "bench"),
    );
    let roles: Vec<&str> = args
        .get("roles", "")
        .split(',')
        .filter(|r| !r.is_empty())
        .collect();
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    // Two threads: 250 000 signatures take a few seconds.
    let threads = 2u64;
    let chunks: Vec<Result<Vec<String>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (header, key, roles) = (&header, &key, &roles);
                s.spawn(move || {
                    let lo = count * t / threads;
                    let hi = count * (t + 1) / threads;
                    (lo..hi)
                        .map(|i| {
                            let subject = if count == 1 {
                                sub.to_owned()
                            } else {
                                format!("{sub}-{i:06}")
                            };
                            let c = claims(iss, aud, &subject, roles, i, now, ttl);
                            jsonwebtoken::encode(header, &c, key).map_err(|e| e.to_string())
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a minting thread panicked".into())))
            .collect()
    });
    let file = std::fs::File::create(args.need("out")).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    for chunk in chunks {
        for token in chunk? {
            writeln!(out, "{token}").map_err(|e| e.to_string())?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}
