//! JWT payload and encoding attacks (none of `jwt_attacks.rs`'s rows are repeated): mistyped
//! time claims, `iss`/`aud`/`typ`, ECDSA edge signatures, duplicate JSON members,
//! non-canonical base64url, segment counts, nested and oversized tokens, claims that would
//! smuggle header content. Every row is 401 `invalid_token` (or 400 / 431 where PRODUCT.md
//! says so), with the exact challenges, `no-store`, a problem+json `code`, never an identity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod jwt_cases;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use common::tokens::{Signer, b64, mint, now};
use common::*;
use jwt_cases::*;

/// Time claims with values or types jwt_attacks.rs does not try.
#[test]
fn time_claims() {
    let warden = server();
    let t = now() as i64;
    let set = |pairs: &[(&str, Value)]| {
        es_signed(
            &es_header(),
            &with(|c| {
                for (k, v) in pairs {
                    c.insert((*k).to_owned(), v.clone());
                }
            }),
        )
    };
    let (expired, early) = (Want::Invalid(BEARER_EXPIRED), Want::Invalid(BEARER_EARLY));
    #[rustfmt::skip]
    let cases = vec![
        expect("exp 0", set(&[("exp", json!(0))]), expired),
        expect("exp negative", set(&[("exp", json!(-1))]), expired),
        expect("exp fractional, past", set(&[("exp", json!(t as f64 - 3600.5))]), expired),
        expect("exp exactly now minus leeway", set(&[("exp", json!(t - 30))]), expired),
        expect("nbf a year ahead", set(&[("nbf", json!(t + 31_536_000))]), early),
        expect("expired and not yet valid", set(&[("exp", json!(t - 3600)), ("nbf", json!(t + 3600))]), expired),
        invalid("exp true", set(&[("exp", json!(true))])),
        invalid("exp as an array", set(&[("exp", json!([t + 600]))])),
        invalid("exp as an object", set(&[("exp", json!({"$gt": 0}))])),
        invalid("exp as a string, past", set(&[("exp", json!((t - 3600).to_string()))])),
        invalid("exp as an ISO date", set(&[("exp", json!("2999-01-01T00:00:00Z"))])),
        invalid("nbf as a string", set(&[("nbf", json!(t.to_string()))])),
        invalid("nbf null", set(&[("nbf", Value::Null)])),
        invalid("iat as a string", set(&[("iat", json!(t.to_string()))])),
    ];
    run("time claims", &warden, &cases);
}

/// Near misses on `iss` and `aud`.
#[test]
fn issuer_and_audience() {
    let warden = server();
    let set = |k: &str, v: Value| es_signed(&es_header(), &with(|c| drop(c.insert(k.into(), v))));
    #[rustfmt::skip]
    let cases = vec![
        invalid("iss as an array holding ours", set("iss", json!(["https://idp.example"]))),
        invalid("iss uppercase", set("iss", json!("HTTPS://IDP.EXAMPLE"))),
        invalid("iss with a trailing space", set("iss", json!("https://idp.example "))),
        invalid("iss with a NUL and more", set("iss", json!("https://idp.example\u{0}.evil"))),
        invalid("iss http instead of https", set("iss", json!("http://idp.example"))),
        invalid("iss null", set("iss", Value::Null)),
        invalid("iss empty", set("iss", json!(""))),
        invalid("aud uppercase", set("aud", json!("API"))),
        invalid("aud with a trailing space", set("aud", json!("api "))),
        invalid("aud empty list", set("aud", json!([]))),
        invalid("aud nested list", set("aud", json!([["api"]]))),
        invalid("aud as an object", set("aud", json!({"api": true}))),
        invalid("aud null", set("aud", Value::Null)),
        invalid("aud as a number", set("aud", json!(1))),
        invalid("aud space-separated string", set("aud", json!("other api"))),
    ];
    run("iss and aud", &warden, &cases);
}

/// With `typ = "at+jwt"` required: near misses jwt_attacks.rs does not try.
#[test]
fn required_typ() {
    let config = replace(
        &standard_config(),
        "scopes_claim = \"scope\"\n",
        "scopes_claim = \"scope\"\ntyp = \"at+jwt\"\n",
    );
    let warden = Env::new(&config).serve();
    let typed = |typ: Value| {
        es_signed(
            &json!({"alg": "ES256", "kid": "es-1", "typ": typ}),
            &valid(),
        )
    };
    // The baseline must pass, or every row below could pass for the wrong reason.
    let ok = warden.get(
        "/admin/x",
        &[("Authorization", &bearer(&typed(json!("at+jwt"))))],
    );
    assert_eq!(ok.status, 200, "{ok:#?}");
    let untyped = json!({"alg": "ES256", "kid": "es-1"});
    let cty = json!({"alg": "ES256", "kid": "es-1", "cty": "at+jwt"});
    let typ_claim = with(|c| drop(c.insert("typ".into(), json!("at+jwt"))));
    #[rustfmt::skip]
    let cases = vec![
        invalid("typ at+jwt with a trailing space", typed(json!("at+jwt "))),
        invalid("typ at+jwt with a parameter", typed(json!("application/at+jwt; charset=utf-8"))),
        invalid("typ prefixed twice", typed(json!("application/application/at+jwt"))),
        invalid("typ with a suffix", typed(json!("at+jwt+x"))),
        invalid("typ as an array", typed(json!(["at+jwt"]))),
        invalid("typ null", typed(Value::Null)),
        invalid("typ empty", typed(json!(""))),
        invalid("typ JOSE", typed(json!("JOSE"))),
        invalid("typ at+jwt only in the payload", es_signed(&untyped, &typ_claim)),
        invalid("at+jwt in cty instead of typ", es_signed(&cty, &valid())),
    ];
    run("required typ", &warden, &cases);
}

/// ECDSA signatures that break the `r || s` form or the value ranges (CVE-2022-21449), and
/// signatures of the wrong length for every key type.
#[test]
fn signature_forms_and_lengths() {
    let warden = server();
    let good = parts(&mint(Signer::Es256, &valid()));
    let sig = unb64(&good[2]);
    assert_eq!(sig.len(), 64);
    let (r, s) = sig.split_at(32);
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let rs = parts(&mint(Signer::Rs256, &valid()));
    let rs_sig = unb64(&rs[2]);
    let ed = parts(&mint(Signer::Ed25519, &valid()));
    let ed_sig = unb64(&ed[2]);
    let with_sig = |p: &[String], sig: &[u8]| format!("{}.{}.{}", p[0], p[1], b64(sig));
    let no_kid = b64(json!({"alg": "ES256", "typ": "JWT"}).to_string());
    let no_kid_zero = format!("{no_kid}.{}.{}", good[1], b64([0u8; 64]));
    #[rustfmt::skip]
    let cases = vec![
        invalid("ES256 all-zero signature (r = s = 0)", es_with_sig(&[0; 64])),
        invalid("ES256 all-zero signature, no kid", no_kid_zero),
        invalid("ES256 r = 0, real s", es_with_sig(&cat(&zero, s))),
        invalid("ES256 real r, s = 0", es_with_sig(&cat(r, &zero))),
        invalid("ES256 r = s = 1", es_with_sig(&cat(&one, &one))),
        invalid("ES256 r = s = n", es_with_sig(&cat(&P256_N, &P256_N))),
        invalid("ES256 r = n, real s", es_with_sig(&cat(&P256_N, s))),
        invalid("ES256 all-ones signature", es_with_sig(&[0xff; 64])),
        invalid("ES256 DER-encoded real signature", es_with_sig(&ecdsa_der(&sig))),
        invalid("ES256 r and s swapped", es_with_sig(&cat(s, r))),
        invalid("ES256 63 bytes", es_with_sig(&sig[..63])),
        invalid("ES256 65 bytes (zero appended)", es_with_sig(&cat(&sig, &[0]))),
        invalid("ES256 65 bytes (zero prepended)", es_with_sig(&cat(&[0], &sig))),
        invalid("ES256 r only (32 bytes)", es_with_sig(r)),
        invalid("ES256 signature twice (128 bytes)", es_with_sig(&cat(&sig, &sig))),
        invalid("ES256 96 bytes (the ES384 length)", es_with_sig(&cat(&sig, &sig[..32]))),
        invalid("RS256 empty signature", format!("{}.{}.", rs[0], rs[1])),
        invalid("RS256 255 bytes (truncated)", with_sig(&rs, &rs_sig[..255])),
        invalid("RS256 257 bytes (zero prepended)", with_sig(&rs, &cat(&[0], &rs_sig))),
        invalid("RS256 all-zero 256 bytes", with_sig(&rs, &[0; 256])),
        invalid("RS256 signature = 1", with_sig(&rs, &cat(&[0; 255], &[1]))),
        invalid("EdDSA empty signature", format!("{}.{}.", ed[0], ed[1])),
        invalid("EdDSA 63 bytes", with_sig(&ed, &ed_sig[..63])),
        invalid("EdDSA 65 bytes", with_sig(&ed, &cat(&ed_sig, &[0]))),
        invalid("EdDSA all-zero signature", with_sig(&ed, &[0; 64])),
    ];
    run("signature forms and lengths", &warden, &cases);
}

/// Duplicate members: a parser that keeps the first and one that keeps the last would read
/// different tokens, so the token is refused whatever the order.
#[test]
fn duplicate_json_members() {
    let warden = server();
    let t = now();
    let exp = t + 600;
    let payload = |extra: &str| {
        format!(
            r#"{{"iss":"https://idp.example","aud":"api","sub":"alice","roles":["admin"],"scope":"","iat":{t},"exp":{exp}{extra}}}"#
        )
    };
    let header = r#"{"alg":"ES256","typ":"JWT","kid":"es-1"}"#;
    let es = |h: &str, p: &str| signed_text(h, p, Signer::Es256);
    // Baseline: the hand-written texts are a valid token.
    let r = warden.get(
        "/admin/x",
        &[("Authorization", &bearer(&es(header, &payload(""))))],
    );
    assert_eq!(r.status, 200, "baseline: {r:#?}");
    let p = payload("");
    let past = format!(r#","exp":{}"#, t - 3600);
    #[rustfmt::skip]
    let cases = vec![
        invalid("header: alg none then ES256", es(r#"{"alg":"none","alg":"ES256","kid":"es-1"}"#, &p)),
        invalid("header: alg ES256 then none", es(r#"{"alg":"ES256","alg":"none","kid":"es-1"}"#, &p)),
        invalid("header: alg HS256 then ES256", es(r#"{"alg":"HS256","alg":"ES256","kid":"es-1"}"#, &p)),
        invalid("header: kid attacker then es-1", es(r#"{"alg":"ES256","kid":"attacker","kid":"es-1"}"#, &p)),
        invalid("header: crit twice, the second empty", es(r#"{"alg":"ES256","kid":"es-1","crit":["x"],"crit":[]}"#, &p)),
        invalid("header: typ twice", es(r#"{"alg":"ES256","kid":"es-1","typ":"JWT","typ":"at+jwt"}"#, &p)),
        invalid("payload: sub alice then root", es(header, &payload(r#","sub":"root""#))),
        invalid("payload: sub then an escaped sub", es(header, &payload(r#","\u0073ub":"root""#))),
        invalid("payload: exp twice, the second expired", es(header, &payload(&past))),
        invalid("payload: exp twice, the second far ahead", es(header, &payload(r#","exp":99999999999"#))),
        invalid("payload: roles twice", es(header, &payload(r#","roles":["admin","root"]"#))),
        invalid("payload: scope twice", es(header, &payload(r#","scope":"orders:write""#))),
        invalid("payload: iss twice", es(header, &payload(r#","iss":"https://evil.example""#))),
        invalid("payload: aud twice", es(header, &payload(r#","aud":"other""#))),
        invalid("payload: repeated inside a nested object", es(header, &payload(r#","realm_access":{"roles":["a"],"roles":["b"]}"#))),
    ];
    run("duplicate JSON members", &warden, &cases);
}

/// base64url that is not the canonical unpadded form (each signed over its exact bytes), extra
/// or missing segments, garbage after the signature, and nested tokens.
#[test]
fn encodings_and_structure() {
    let warden = server();
    let h = es_header().to_string();
    // Claims whose base64url has `-` or `_`, so the standard alphabet spells them differently.
    let (payload, p64) = (0..1000)
        .map(|n| with(|c| drop(c.insert("n".into(), json!(format!("~~>?{n}"))))).to_string())
        .map(|text| (text.clone(), b64(&text)))
        .find(|(_, p)| p.contains(['-', '_']))
        .unwrap();
    let h64 = b64(&h);
    let key = Signer::Es256.key();
    let signed = |input: String| sign_input(&input, &key, Algorithm::ES256);
    let good = signed(format!("{h64}.{p64}"));
    let r = warden.get("/admin/x", &[("Authorization", &bearer(&good))]);
    assert_eq!(r.status, 200, "baseline: {r:#?}");
    let g = parts(&good);
    let sig = unb64(&g[2]);
    // A signature whose base64url has `-` or `_` (ECDSA signatures differ every time).
    let urlsafe_sig = (0..64)
        .map(|_| parts(&signed(format!("{h64}.{p64}")))[2].clone())
        .find(|s| s.contains(['-', '_']))
        .unwrap();
    let std_sig = STANDARD_NO_PAD.encode(unb64(&urlsafe_sig));
    // The last of 86 characters carries 4 bits; setting the 2 unused ones is non-canonical.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut loose = g[2].clone();
    let last = loose.pop().unwrap();
    let pos = alphabet
        .iter()
        .position(|c| char::from(*c) == last)
        .unwrap();
    loose.push(char::from(alphabet[pos | 0b11]));
    if loose == g[2] {
        loose.pop();
        loose.push(char::from(alphabet[(pos & !0b11) | 0b01]));
    }
    let inner = mint(Signer::Es256, &valid());
    let nested = b64(json!({"alg": "ES256", "kid": "es-1", "cty": "JWT"}).to_string());
    let none_nested = b64(json!({"alg": "none", "cty": "JWT"}).to_string());
    let (g0, g1, g2) = (&g[0], &g[1], &g[2]);
    #[rustfmt::skip]
    let cases = vec![
        // `=` inside the token breaks the b64token grammar: a malformed header, 400.
        expect("header padded with =", signed(format!("{}.{p64}", URL_SAFE.encode(&h))), Want::BadRequest),
        expect("payload padded with =", signed(format!("{h64}.{}", URL_SAFE.encode(&payload))), Want::BadRequest),
        expect("payload with a space inside", signed(format!("{h64}.{} {}", &p64[..10], &p64[10..])), Want::BadRequest),
        invalid("signature padded with ==", format!("{g0}.{g1}.{}", URL_SAFE.encode(&sig))),
        invalid("payload in the standard alphabet (+ /), signed as sent", signed(format!("{h64}.{}", STANDARD_NO_PAD.encode(&payload)))),
        invalid("signature in the standard alphabet (+ /)", format!("{g0}.{g1}.{std_sig}")),
        invalid("signature with non-zero unused bits", format!("{g0}.{g1}.{loose}")),
        invalid("trailing garbage AAAA after the signature", format!("{good}AAAA")),
        invalid("trailing ~ after the signature", format!("{good}~")),
        invalid("trailing dot (4 segments)", format!("{good}.")),
        invalid("4 segments", format!("{good}.{g2}")),
        invalid("5 segments from a JWS", format!("{good}.{g1}.{g2}")),
        invalid("leading dot", format!(".{good}")),
        invalid("empty header", format!(".{g1}.{g2}")),
        invalid("empty payload, signed as sent", signed(format!("{h64}."))),
        invalid("payload a JSON array, signed", signed(format!("{h64}.{}", b64("[1,2]")))),
        invalid("payload a JSON string, signed", signed(format!("{h64}.{}", b64("\"alice\"")))),
        invalid("payload JSON with trailing garbage, signed", signed(format!("{h64}.{}", b64(format!("{payload}x"))))),
        invalid("payload with a UTF-8 BOM, signed", signed(format!("{h64}.{}", b64(format!("\u{feff}{payload}"))))),
        invalid("header JSON with trailing garbage, signed", signed(format!("{}.{p64}", b64(format!("{h}x"))))),
        invalid("nested JWT (cty JWT), outer signed", signed(format!("{nested}.{}", b64(&inner)))),
        invalid("nested JWT inside alg none", format!("{none_nested}.{}.", b64(&inner))),
        invalid("nested JWT with the inner signature", format!("{nested}.{}.{}", b64(&inner), parts(&inner)[2])),
    ];
    run("encodings and structure", &warden, &cases);
}

/// Sends `Authorization: Bearer <size bytes>` on its own connection, writing from another
/// thread so an early answer is read; the status and the whole answer.
fn huge_request(addr: SocketAddr, size: usize) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let token = format!("{}.{}.g", "e".repeat(size / 2), "f".repeat(size / 2 - 10));
    let head = format!(
        "GET /admin/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    );
    let writer = {
        let mut s = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = s.write_all(head.as_bytes());
        })
    };
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

/// A token over 8 KiB is warden's 431; a 1 MB one is 431 too (from the HTTP layer, since the
/// request head is past its 64 KiB buffer), never 401 or 5xx, and the server stays up.
#[test]
fn oversized_tokens() {
    let warden = server();
    let padded = |n: usize| {
        es_signed(
            &es_header(),
            &with(|c| drop(c.insert("pad".into(), json!("p".repeat(n))))),
        )
    };
    let cases = vec![
        expect("token of 9 KiB", padded(6800), Want::TooLarge),
        invalid("token just under 8 KiB, bad signature", {
            let p = parts(&padded(5800));
            format!("{}.{}.{}", p[0], p[1], b64([0u8; 64]))
        }),
    ];
    for c in &cases {
        eprintln!("{}: {} bytes", c.name, c.token.len());
    }
    assert!(cases[0].token.len() > 9000);
    assert!(cases[1].token.len() + "Bearer ".len() <= 8 * 1024);
    run("oversized tokens", &warden, &cases);
    let (status, answer) = huge_request(warden.addr, 1 << 20).expect("no answer to a 1 MB token");
    eprintln!(
        "1 MB token: {:?}",
        answer.lines().take(4).collect::<Vec<_>>()
    );
    assert_eq!(status, 431, "1 MB token: {answer}");
    let r = warden.get("/health", &[]);
    assert_eq!(r.status, 200, "still serving: {r:#?}");
}

/// Claims that would change meaning once written into the identity headers: a role holding the
/// `,` that joins roles, a scope holding the space that joins scopes. Refused on a rule that
/// would let the token in. Control characters in `sub` reach the upstream percent-encoded,
/// never as a second header line.
#[test]
fn identity_claims_cannot_smuggle_header_content() {
    let warden = server();
    let set = |k: &str, v: Value| es_signed(&es_header(), &with(|c| drop(c.insert(k.into(), v))));
    #[rustfmt::skip]
    let cases = vec![
        invalid("role holding a comma", set("roles", json!(["viewer,admin"]))),
        invalid("role holding a comma, after a real one", set("roles", json!(["viewer", "x,admin"]))),
        invalid("scope item holding a space", set("scope", json!(["orders:read orders:write"]))),
        invalid("scope item holding a tab", set("scope", json!(["orders:read\torders:write"]))),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let r = warden.get("/private/x", &[("Authorization", &bearer(&c.token))]);
        failures.extend(
            mismatches(c.want, &r)
                .into_iter()
                .map(|m| format!("[{}] {m}", c.name)),
        );
    }
    eprintln!(
        "identity claims: {} cases, {} misjudged",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let t = set(
        "sub",
        json!("alice\r\nX-Auth-Roles: admin\r\nX-Injected: 1"),
    );
    let r = warden.get("/private/x", &[("Authorization", &bearer(&t))]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(
        r.all("x-auth-subject"),
        ["alice%0D%0AX-Auth-Roles: admin%0D%0AX-Injected: 1"]
    );
    assert_eq!(r.all("x-auth-roles"), ["admin"]);
    assert!(r.header("x-injected").is_none(), "{r:#?}");
}
