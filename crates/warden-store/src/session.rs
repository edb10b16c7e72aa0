//! Browser sessions: token generation and hashing, and the records callers see.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::api_key::{hash_key, to_hex};
use crate::{StoreError, UserRecord};

/// Prefix of every session token; distinct from API keys so one can never pass for the other.
pub const SESSION_PREFIX: &str = "wds_";

/// Prefix of every federated session token (sign-in at an OpenID Provider).
///
/// Distinct from [`SESSION_PREFIX`], so a token only ever matches its own table.
pub const FEDERATED_PREFIX: &str = "wdf_";

/// Seconds of activity the store may ignore before moving `last_seen`.
///
/// Writing on every request would serialise all readers behind the SQLite
/// write lock; idle limits are minutes, so 30 s of slack is invisible.
pub const LAST_SEEN_GRANULARITY: i64 = 30;

/// A new session: the cookie value (shown once) and its record.
#[derive(Clone)]
pub struct NewSession {
    /// The secret cookie value; only its hash is stored.
    pub token: String,
    /// The stored record.
    pub record: SessionRecord,
}

impl std::fmt::Debug for NewSession {
    // Keeps the secret out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"<redacted>")
            .field("record", &self.record)
            .finish()
    }
}

/// A session as listed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Short public identifier (12 lowercase hex chars), used to list and revoke.
    pub id: String,
    /// Name of the signed-in user; for a federated session, the provider's subject.
    pub user: String,
    /// The OpenID Provider a federated session signed in at; `None` for password sessions.
    pub provider: Option<String>,
    /// Sign-in time, seconds since the Unix epoch.
    pub created_at: i64,
    /// Last recorded activity, seconds since the Unix epoch (coarse, see [`LAST_SEEN_GRANULARITY`]).
    pub last_seen: i64,
    /// End of the absolute lifetime, seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Idle and absolute limits, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused for this long ends.
    pub idle: i64,
    /// A session ends this long after sign-in, however active.
    pub absolute: i64,
}

/// A generated token with its stored hash and public id.
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) hash: String,
    pub(crate) id: String,
}

/// Generates a token: `prefix` + base64url (no padding) of 32 random bytes.
pub(crate) fn mint(prefix: &str) -> Result<Minted, StoreError> {
    let mut secret = [0u8; 32];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| StoreError::Random)?;
    let mut id = [0u8; 6];
    aws_lc_rs::rand::fill(&mut id).map_err(|_| StoreError::Random)?;
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret));
    Ok(Minted {
        hash: hash_token(&token),
        token,
        id: to_hex(&id),
    })
}

/// Hex SHA-256 of a token; a fast hash suffices because tokens carry 256 random bits.
pub fn hash_token(token: &str) -> String {
    hash_key(token)
}

/// True if `s` has the session prefix (cheap pre-check before any lookup).
pub fn looks_like_session(s: &str) -> bool {
    s.starts_with(SESSION_PREFIX)
}

/// True if `s` has the federated session prefix (cheap pre-check before any lookup).
pub fn looks_like_federated(s: &str) -> bool {
    s.starts_with(FEDERATED_PREFIX)
}

/// A new password session for `user` signed in at `now`, and the token hash to store for it.
pub(crate) fn start(
    user: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<(NewSession, String), StoreError> {
    open(SESSION_PREFIX, user, None, now, limits)
}

/// A new session with a `prefix` token, and the token hash to store for it.
pub(crate) fn open(
    prefix: &str,
    user: &str,
    provider: Option<&str>,
    now: i64,
    limits: SessionLimits,
) -> Result<(NewSession, String), StoreError> {
    let minted = mint(prefix)?;
    let record = SessionRecord {
        id: minted.id,
        user: user.to_owned(),
        provider: provider.map(str::to_owned),
        created_at: now,
        last_seen: now,
        expires_at: now.saturating_add(limits.absolute),
    };
    let session = NewSession {
        token: minted.token,
        record,
    };
    Ok((session, minted.hash))
}

/// Why no session row was inserted for `user`, from its `disabled` flag if the row exists.
pub(crate) fn refusal(user: &str, disabled: Option<bool>) -> StoreError {
    match disabled {
        Some(_) => StoreError::UserDisabled(user.to_owned()),
        None => StoreError::UnknownUser(user.to_owned()),
    }
}

/// True while neither limit has been reached and the user is enabled.
pub(crate) fn admits(
    session: &SessionRecord,
    user: &UserRecord,
    now: i64,
    limits: SessionLimits,
) -> bool {
    is_live(session, now, limits) && !user.disabled
}

/// True while neither the idle nor the absolute limit has been reached.
pub(crate) fn is_live(session: &SessionRecord, now: i64, limits: SessionLimits) -> bool {
    now < session.expires_at && now.saturating_sub(session.last_seen) < limits.idle
}

/// True when the stored `last_seen` is old enough to be worth a write (see [`LAST_SEEN_GRANULARITY`]).
pub(crate) fn needs_touch(session: &SessionRecord, now: i64) -> bool {
    now.saturating_sub(session.last_seen) >= LAST_SEEN_GRANULARITY
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn format() {
        let m = mint(SESSION_PREFIX).unwrap();
        assert_eq!(m.token.len(), 4 + 43);
        assert!(looks_like_session(&m.token));
        assert!(!looks_like_federated(&m.token));
        assert_eq!(m.id.len(), 12);
        assert!(m.id.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(m.hash, hash_token(&m.token));
        assert_ne!(mint(SESSION_PREFIX).unwrap().token, m.token);
        let f = mint(FEDERATED_PREFIX).unwrap();
        assert!(f.token.starts_with("wdf_") && f.token.len() == 4 + 43);
        assert!(looks_like_federated(&f.token) && !looks_like_session(&f.token));
    }

    #[test]
    fn api_keys_are_not_sessions() {
        assert!(!looks_like_session("wdn_abc"));
        assert!(!looks_like_session("Wds_abc"));
    }

    #[test]
    fn debug_hides_token() {
        let m = mint(SESSION_PREFIX).unwrap();
        let s = NewSession {
            token: m.token.clone(),
            record: SessionRecord {
                id: m.id,
                user: "u".into(),
                provider: None,
                created_at: 1,
                last_seen: 1,
                expires_at: 2,
            },
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains(&m.token), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
