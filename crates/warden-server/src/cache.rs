//! Caches in front of the slow checks: a verified JWT skips its signature, a recent Basic
//! credential skips argon2 or bcrypt, a recent API key skips the store, an introspected token
//! skips the authorization server. Bounded, and never longer than the check itself would stay
//! true.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use quick_cache::sync::Cache;
use warden_core::Identity;
use warden_core::jwt::KeySet;
use warden_store::Revocation;

/// Positive answers from the store are reused this long: the CLI's user and key changes must
/// reach a running server within a second, checks included.
pub const STORE_TTL_MS: u64 = 500;

type Digest = [u8; 32];

/// Verified tokens by SHA-256, each until its `exp` and only with the key set that verified it.
pub struct TokenCache {
    entries: Cache<Digest, TokenEntry>,
}

#[derive(Clone)]
struct TokenEntry {
    identity: Identity,
    until: u64,
    keys: Arc<KeySet>,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity),
        }
    }

    /// The identity of a token verified earlier with these keys and still valid at `now`.
    pub fn get(&self, token: &str, keys: &Arc<KeySet>, now: u64) -> Option<Identity> {
        let key = sha256(token.as_bytes());
        let entry = self.entries.get(&key)?;
        if now <= entry.until && Arc::ptr_eq(&entry.keys, keys) {
            return Some(entry.identity);
        }
        self.entries.remove(&key);
        None
    }

    /// Remembers a verified token until the last second it is valid.
    pub fn insert(&self, token: &str, identity: Identity, until: u64, keys: Arc<KeySet>) {
        let entry = TokenEntry {
            identity,
            until,
            keys,
        };
        self.entries.insert(sha256(token.as_bytes()), entry);
    }
}

/// Recent successful secret checks (Basic, API keys, sessions for `STORE_TTL_MS`; introspected
/// tokens until their own deadline), keyed by an HMAC of the secret under a per-process random
/// key: no plaintext and no offline-guessable hash is ever held.
pub struct SecretCache {
    entries: Cache<Digest, Remembered>,
    key: hmac::Key,
    /// Bumped by every revocation: a check that started before one is not remembered, so a
    /// success read from the store just before the revocation cannot outlive it.
    epoch: AtomicU64,
}

#[derive(Clone)]
struct Remembered {
    identity: Identity,
    /// The public id of the session or API key, which a revocation may name.
    id: Option<Arc<str>>,
    /// Milliseconds since the epoch at which the entry stops counting.
    until: u64,
}

impl SecretCache {
    /// A cache of at most `capacity` secrets.
    pub fn new(capacity: usize) -> Self {
        let mut secret = [0u8; 32];
        // The OS RNG does not fail on supported platforms; a zero key would still never hold
        // plaintext, only make the HMAC predictable.
        let _ = aws_lc_rs::rand::fill(&mut secret);
        Self {
            entries: Cache::new(capacity),
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            epoch: AtomicU64::new(0),
        }
    }

    /// The identity of the secret with this tag, checked recently enough (see `insert`).
    pub fn get(&self, tag: &SecretTag, now_ms: u64) -> Option<Identity> {
        self.get_with_id(tag, now_ms).map(|(identity, _)| identity)
    }

    /// A remembered success: its identity and the public id of its session or key.
    pub fn get_with_id(
        &self,
        tag: &SecretTag,
        now_ms: u64,
    ) -> Option<(Identity, Option<Arc<str>>)> {
        let entry = self.entries.get(&tag.0)?;
        if now_ms < entry.until {
            return Some((entry.identity, entry.id));
        }
        self.entries.remove(&tag.0);
        None
    }

    /// The revocation count now; pass it to [`Self::insert`] after the check.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Remembers a successful check made at `now_ms` (with the public id of its session or
    /// key, which a revocation may name), unless a revocation came in since
    /// `epoch` was read.
    pub fn insert(
        &self,
        tag: SecretTag,
        identity: Identity,
        id: Option<&str>,
        now_ms: u64,
        epoch: u64,
    ) {
        let entry = Remembered {
            identity,
            id: id.map(Arc::from),
            until: now_ms.saturating_add(STORE_TTL_MS),
        };
        self.remember(tag, entry, epoch);
    }

    /// Remembers a success until `until_ms` (an introspected token: the caller bounds it by
    /// the token's `exp`), unless a revocation came in since `epoch` was read.
    pub fn insert_until(&self, tag: SecretTag, identity: Identity, until_ms: u64, epoch: u64) {
        let entry = Remembered {
            identity,
            id: None,
            until: until_ms,
        };
        self.remember(tag, entry, epoch);
    }

    fn remember(&self, tag: SecretTag, entry: Remembered, epoch: u64) {
        self.entries.insert(tag.0, entry);
        // Checked after the insert: a revocation racing with it either sees the entry and
        // drops it, or bumped the epoch first and the entry is dropped here.
        if self.epoch() != epoch {
            self.entries.remove(&tag.0);
        }
    }

    /// Forgets every success the revocation touches.
    pub fn forget(&self, revocation: &Revocation) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match revocation {
            Revocation::Subject(name) => self.entries.retain(|_, e| e.identity.subject != *name),
            Revocation::Session(id) | Revocation::Key(id) => {
                self.entries
                    .retain(|_, e| e.id.as_deref() != Some(id.as_str()));
            }
            Revocation::All => self.entries.clear(),
        }
    }

    /// The cache key of a secret given in parts (e.g. user and password).
    pub fn tag(&self, parts: &[&str]) -> SecretTag {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        SecretTag(out)
    }
}

/// A secret's cache key: the HMAC of its parts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretTag(Digest);

fn sha256(bytes: &[u8]) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use warden_core::AuthMethod;

    const JWKS: &[u8] = include_bytes!("../../../examples/quickstart/keys/jwks.json");

    fn alice() -> Identity {
        Identity {
            subject: "alice".into(),
            roles: vec!["admin".into()],
            scopes: Vec::new(),
            method: AuthMethod::Basic,
            acr: None,
            auth_time: None,
            claims: None,
        }
    }

    #[test]
    fn secrets_expire_after_half_a_second_and_are_keyed_by_every_part() {
        let cache = SecretCache::new(10);
        let tag = |parts: &[&str]| cache.tag(parts);
        cache.insert(tag(&["alice", "pw"]), alice(), None, 1_000, 0);
        assert_eq!(cache.get(&tag(&["alice", "pw"]), 1_499), Some(alice()));
        assert_eq!(cache.get(&tag(&["alice", "pw"]), 1_500), None);
        assert_eq!(
            cache.get(&tag(&["alice", "pw"]), 1_200),
            None,
            "expired entries are gone"
        );
        cache.insert(tag(&["ab", "c"]), alice(), None, 0, 0);
        assert_eq!(cache.get(&tag(&["a", "bc"]), 1), None);
        assert_eq!(cache.get(&tag(&["alice", "PW"]), 1), None);
    }

    #[test]
    fn revocations_forget_the_subject_or_the_session_and_stale_checks() {
        let cache = SecretCache::new(10);
        let bob = Identity {
            subject: "bob".into(),
            ..alice()
        };
        let (a, b, s) = (cache.tag(&["a"]), cache.tag(&["b"]), cache.tag(&["s"]));
        cache.insert(a, alice(), None, 0, cache.epoch());
        cache.insert(b, bob.clone(), None, 0, cache.epoch());
        cache.insert(s, bob.clone(), Some("0a1b"), 0, cache.epoch());
        cache.forget(&Revocation::Session("0a1b".into()));
        assert_eq!(cache.get(&s, 1), None);
        assert_eq!(cache.get(&b, 1), Some(bob.clone()));
        cache.forget(&Revocation::Subject("bob".into()));
        assert_eq!(cache.get(&b, 1), None);
        assert_eq!(cache.get(&a, 1), Some(alice()));
        // A check that began before a revocation is not remembered.
        let before = cache.epoch();
        cache.forget(&Revocation::Subject("carol".into()));
        cache.insert(b, bob, None, 2, before);
        assert_eq!(cache.get(&b, 3), None);
        cache.forget(&Revocation::All);
        assert_eq!(cache.get(&a, 1), None);
    }

    #[test]
    fn introspected_tokens_live_until_their_deadline_unless_revoked() {
        let cache = SecretCache::new(10);
        let tag = cache.tag(&["introspection", "t"]);
        cache.insert_until(tag, alice(), 60_000, cache.epoch());
        assert_eq!(cache.get(&tag, 59_999), Some(alice()));
        assert_eq!(cache.get(&tag, 60_000), None);
        cache.insert_until(tag, alice(), 60_000, cache.epoch());
        cache.forget(&Revocation::Subject("alice".into()));
        assert_eq!(cache.get(&tag, 1), None);
        let before = cache.epoch();
        cache.forget(&Revocation::All);
        cache.insert_until(tag, alice(), 60_000, before);
        assert_eq!(cache.get(&tag, 1), None, "a check older than a revocation");
    }

    #[test]
    fn tokens_live_until_exp_and_only_with_their_keys() {
        let keys = Arc::new(KeySet::from_jwks(JWKS).unwrap());
        let other = Arc::new(KeySet::from_jwks(JWKS).unwrap());
        let cache = TokenCache::new(10);
        cache.insert("t", alice(), 100, keys.clone());
        assert_eq!(cache.get("t", &keys, 100), Some(alice()));
        assert_eq!(
            cache.get("t", &other, 50),
            None,
            "rotated keys drop the entry"
        );
        cache.insert("t", alice(), 100, keys.clone());
        assert_eq!(cache.get("t", &keys, 101), None);
        assert_eq!(cache.get("u", &keys, 1), None);
    }
}
