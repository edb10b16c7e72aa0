//! User queries.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::sessions;
use crate::clock::now_unix;
use crate::password::{dummy_hash, hash_password, verify_password};
use crate::validate::{decode_roles, encode_roles, validate_name};
use crate::{StoreError, UserRecord};

const USER_COLUMNS: &str = "name, roles, disabled, created_at";

pub(super) async fn add(
    pool: &SqlitePool,
    name: &str,
    password: &str,
    roles: &[String],
) -> Result<(), StoreError> {
    validate_name(name)?;
    let roles = encode_roles(roles)?;
    let hash = hash_blocking(password).await?;
    let result = sqlx::query(
        "INSERT INTO users (name, password_hash, roles, disabled, created_at)
         VALUES (?, ?, ?, 0, ?)",
    )
    .bind(name)
    .bind(hash)
    .bind(roles)
    .bind(now_unix())
    .execute(pool)
    .await;
    match result {
        Ok(_) => Ok(()),
        // Relying on the primary key (not a prior SELECT) closes the race between two writers.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::UserExists(name.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(user_from_row).collect()
}

pub(super) async fn set_disabled(
    pool: &SqlitePool,
    name: &str,
    disabled: bool,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query("UPDATE users SET disabled = ? WHERE name = ?")
        .bind(disabled)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    require_one(done.rows_affected(), name)?;
    if disabled {
        // Deleting (not just hiding) them means re-enabling cannot revive old cookies.
        sessions::end_all(&mut *tx, name).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_password(
    pool: &SqlitePool,
    name: &str,
    password: &str,
) -> Result<(), StoreError> {
    // Hash before taking the write lock: argon2 is slow.
    let hash = hash_blocking(password).await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE name = ?")
        .bind(hash)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    require_one(done.rows_affected(), name)?;
    // A password change is how a user evicts whoever stole the old one.
    sessions::end_all(&mut *tx, name).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn check_password(
    pool: &SqlitePool,
    name: &str,
    password: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?");
    let row = sqlx::query(&sql).bind(name).fetch_optional(pool).await?;
    let (user, phc): (_, Option<String>) = match row {
        Some(row) => (
            Some(user_from_row(&row)?),
            Some(row.try_get("password_hash")?),
        ),
        None => (None, None),
    };
    let password = password.to_owned();
    // Unknown, disabled and wrong-password users all pay exactly one verification.
    let matched = tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
        let phc: &str = match &phc {
            Some(phc) => phc,
            None => dummy_hash()?,
        };
        Ok(verify_password(&password, phc))
    })
    .await
    .map_err(|e| StoreError::Hash(e.to_string()))??;
    Ok(user.filter(|u| matched && !u.disabled))
}

/// Argon2 takes tens of milliseconds; keep it off the async workers.
async fn hash_blocking(password: &str) -> Result<String, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))?
}

fn require_one(rows: u64, name: &str) -> Result<(), StoreError> {
    if rows == 0 {
        return Err(StoreError::UnknownUser(name.to_owned()));
    }
    Ok(())
}

fn user_from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        name: row.try_get("name")?,
        roles: decode_roles(row.try_get("roles")?),
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}
