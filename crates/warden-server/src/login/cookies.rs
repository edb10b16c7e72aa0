//! The cookies of the sign-in flow, with the attributes browsers need to keep them safe.

use aws_lc_rs::rand;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warden_core::RequestFacts;
use warden_core::cookies::{LOGIN_MARKER, SESSION, SESSION_HOST};

/// The double-submit CSRF cookie of the login and logout forms.
pub const CSRF: &str = "warden_csrf";

/// 32 random bytes, base64url: CSRF tokens.
pub fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// `Secure` unless the browser talks plain http to a loopback host (local development).
fn secure(facts: &RequestFacts) -> bool {
    facts.secure || !facts.loopback()
}

/// The session cookie: `__Host-` over https; `HttpOnly`, `SameSite=Lax`, whole site.
pub fn session(facts: &RequestFacts, token: &str, max_age: i64) -> String {
    if facts.secure {
        format!("{SESSION_HOST}={token}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax")
    } else {
        let flag = if secure(facts) { "; Secure" } else { "" };
        format!("{SESSION}={token}; Path=/; Max-Age={max_age}{flag}; HttpOnly; SameSite=Lax")
    }
}

/// Both session cookie names, expired.
pub fn clear_session(facts: &RequestFacts) -> [String; 2] {
    let flag = if secure(facts) { "; Secure" } else { "" };
    [
        format!("{SESSION}=; Path=/; Max-Age=0{flag}; HttpOnly; SameSite=Lax"),
        format!("{SESSION_HOST}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"),
    ]
}

/// Marks a fresh sign-in for a minute. Never `Secure`, so it survives exactly the setups where
/// the session cookie might not, and the loop can be explained.
pub fn marker(on: bool) -> String {
    let age = if on { 60 } else { 0 };
    format!("{LOGIN_MARKER}=1; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax")
}

/// The CSRF cookie, only sent to the `/.warden/` pages.
pub fn csrf(facts: &RequestFacts, token: &str) -> String {
    let flag = if secure(facts) { "; Secure" } else { "" };
    format!("{CSRF}={token}; Path=/.warden/; Max-Age=3600{flag}; HttpOnly; SameSite=Strict")
}

/// The cookie binding an OIDC sign-in to the browser that started it: the `state` value.
pub const OIDC_STATE: &str = "warden_oidc";

/// How long a sign-in at a provider may take, in seconds.
pub const OIDC_STATE_SECONDS: i64 = 600;

/// The state cookie, only sent to the callback. `Lax`: the provider's redirect back is a
/// top-level navigation from another site, which `Strict` would strip it from.
pub fn oidc_state(facts: &RequestFacts, state: &str) -> String {
    let flag = if secure(facts) { "; Secure" } else { "" };
    format!(
        "{OIDC_STATE}={state}; Path=/.warden/oidc/; Max-Age={OIDC_STATE_SECONDS}{flag}; HttpOnly; SameSite=Lax"
    )
}

/// The state cookie, expired.
pub fn clear_oidc_state(facts: &RequestFacts) -> String {
    let flag = if secure(facts) { "; Secure" } else { "" };
    format!("{OIDC_STATE}=; Path=/.warden/oidc/; Max-Age=0{flag}; HttpOnly; SameSite=Lax")
}
