//! Password hashing with argon2id.

use std::sync::OnceLock;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::StoreError;

/// argon2id memory per hash, in KiB, and passes: OWASP's m=12 MiB, t=3 option. It costs the
/// same CPU as the crate's default (m=19 MiB, t=2), which OWASP rates equal, with 7 MiB less
/// memory for every hash in flight. Hashes made with other parameters still verify: their
/// PHC string carries them.
const M_COST_KIB: u32 = 12 * 1024;
const T_COST: u32 = 3;

/// Hashes a password into a PHC string (argon2id, [`M_COST_KIB`], [`T_COST`], one lane) with a
/// fresh 16-byte random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let hash_error = |e: &dyn std::fmt::Display| StoreError::Hash(e.to_string());
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| StoreError::Random)?;
    let params = Params::new(M_COST_KIB, T_COST, 1, None).map_err(|e| hash_error(&e))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_blocks(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
    })
    .map_err(|e| hash_error(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| hash_error(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(|e| hash_error(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| hash_error(&e))?),
    };
    Ok(phc.to_string())
}

/// True if `password` matches the PHC string; false on mismatch or a malformed hash.
///
/// The argon2 working memory (12 MiB with our parameters) is allocated so that it is
/// returned to the system afterwards (see [`ALWAYS_MAPPED`]).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = with_blocks(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    });
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// glibc serves allocations this large with their own mapping and unmaps them on free
/// (`M_MMAP_THRESHOLD_MAX` on 64-bit); smaller ones raise its threshold and then stay in a
/// heap that does not shrink, so resident memory would keep a hash's memory per thread that
/// hashed.
const ALWAYS_MAPPED: usize = 33 * 1024 * 1024;

fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let capacity = count.max(ALWAYS_MAPPED / std::mem::size_of::<Block>());
    let mut blocks = Vec::with_capacity(capacity);
    blocks.resize(count, Block::default());
    f(&mut blocks)
}

/// A process-wide PHC hash to verify against when the user does not exist.
///
/// Verifying against it costs the same argon2 work as a real user's hash, so
/// response time does not reveal whether a name exists.
pub fn dummy_hash() -> Result<&'static str, StoreError> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("warden-dummy-password").ok())
        .as_deref()
        .ok_or_else(|| StoreError::Hash("dummy hash unavailable".to_owned()))
}

/// [`hash_password`] off the async workers: argon2 takes tens of milliseconds.
pub(crate) async fn hash_blocking(password: &str) -> Result<String, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))?
}

/// Verifies `password` against `phc`, or against [`dummy_hash`] when there is none (no
/// such user), so that every call costs exactly one verification.
pub(crate) async fn verify_blocking(
    password: &str,
    phc: Option<String>,
) -> Result<bool, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
        // Computing the dummy first makes a cold process pay for it on whichever call comes
        // first, not on the first unknown name, so that call's time says nothing about names.
        let dummy = dummy_hash()?;
        Ok(verify_password(&password, phc.as_deref().unwrap_or(dummy)))
    })
    .await
    .map_err(|e| StoreError::Hash(e.to_string()))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hash_and_verify() {
        let phc = hash_password("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"));
        assert!(verify_password("s3cret", &phc));
        assert!(!verify_password("s3cret ", &phc));
        assert!(!verify_password("s3cret", "not a phc string"));
    }

    #[test]
    fn new_hashes_use_owasp_12_mib_3_passes_and_old_ones_still_verify() {
        let phc = hash_password("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{phc}");
        // A hash made with the argon2 crate's defaults (m=19456, t=2), as earlier versions did.
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let old = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");
        assert!(verify_password("s3cret", &old));
        assert!(!verify_password("s3cret!", &old));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password("x").unwrap(), hash_password("x").unwrap());
    }

    #[test]
    fn dummy_is_stable_and_valid() {
        let a = dummy_hash().unwrap();
        assert_eq!(a, dummy_hash().unwrap());
        assert!(a.starts_with("$argon2id$"));
        assert!(!verify_password("", a));
    }
}
