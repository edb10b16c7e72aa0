//! API key queries.

use sqlx::SqlitePool;

use crate::api_key::{generate, hash_key, looks_like_key};
use crate::clock::now_unix;
use crate::shared;
use crate::validate::{encode_roles, validate_name};
use crate::{ApiKeyRecord, NewApiKey, StoreError};

const KEY_COLUMNS: &str = "id, name, roles, revoked, created_at";

pub(super) async fn create(
    pool: &SqlitePool,
    name: &str,
    roles: &[String],
) -> Result<NewApiKey, StoreError> {
    // The key's name becomes a principal name, so it obeys the user-name rules.
    validate_name(name)?;
    let roles = encode_roles(roles)?;
    let key = generate()?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, key_hash, roles, revoked, created_at)
         VALUES (?, ?, ?, ?, 0, ?)",
    )
    .bind(&key.id)
    .bind(name)
    .bind(&key.hash)
    .bind(roles)
    .bind(now_unix())
    .execute(pool)
    .await?;
    Ok(key)
}

pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(shared::api_key).collect()
}

pub(super) async fn revoke(pool: &SqlitePool, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE api_keys SET revoked = 1 WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::UnknownKey(id.to_owned()));
    }
    Ok(())
}

pub(super) async fn check(
    pool: &SqlitePool,
    plaintext: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    if !looks_like_key(plaintext) {
        return Ok(None);
    }
    // Lookup by hash: the DB never sees the secret, and a timing leak on the
    // index reveals only hash prefixes, which do not help forge a key.
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?");
    let row = sqlx::query(&sql)
        .bind(hash_key(plaintext))
        .fetch_optional(pool)
        .await?;
    let record = row.as_ref().map(shared::api_key).transpose()?;
    Ok(record.filter(|k| !k.revoked))
}
