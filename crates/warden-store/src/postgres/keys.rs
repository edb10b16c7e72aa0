//! API key queries.

use sqlx::PgPool;

use super::PgStore;
use crate::api_key::{generate, hash_key, looks_like_key};
use crate::clock::now_unix;
use crate::shared;
use crate::validate::{encode_roles, validate_name};
use crate::{ApiKeyRecord, NewApiKey, StoreError};

const KEY_COLUMNS: &str = "id, name, roles, revoked, created_at";

pub(super) async fn create(
    store: &PgStore,
    name: &str,
    roles: &[String],
) -> Result<NewApiKey, StoreError> {
    // The key's name becomes a principal name, so it obeys the user-name rules.
    validate_name(name)?;
    let roles = encode_roles(roles)?;
    let key = generate()?;
    store
        .call(async {
            sqlx::query(
                "INSERT INTO api_keys (id, name, key_hash, roles, revoked, created_at)
                 VALUES ($1, $2, $3, $4, FALSE, $5)",
            )
            .bind(&key.id)
            .bind(name)
            .bind(&key.hash)
            .bind(&roles)
            .bind(now_unix())
            .execute(&store.pool)
            .await?;
            Ok(())
        })
        .await?;
    Ok(key)
}

pub(super) async fn list(pool: &PgPool) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(shared::api_key).collect()
}

pub(super) async fn revoke(pool: &PgPool, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE api_keys SET revoked = TRUE WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::UnknownKey(id.to_owned()));
    }
    Ok(())
}

pub(super) async fn check(
    store: &PgStore,
    plaintext: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    // Checked before the call, so junk never waits on (or for) the database.
    if !looks_like_key(plaintext) {
        return Ok(None);
    }
    // One lookup on the unique index of `key_hash`: the secret never reaches the database.
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
    let lookup = sqlx::query(&sql).bind(hash_key(plaintext));
    let row = store
        .call(async { Ok(lookup.fetch_optional(&store.pool).await?) })
        .await?;
    let record = row.as_ref().map(shared::api_key).transpose()?;
    Ok(record.filter(|k| !k.revoked))
}
