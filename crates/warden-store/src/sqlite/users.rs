//! User queries.

use sqlx::SqlitePool;

use super::sessions;
use crate::clock::now_unix;
use crate::password::{hash_blocking, verify_blocking};
use crate::shared::{self, USER, require_user};
use crate::validate::{encode_roles, validate_name};
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
    sqlx::query(
        "INSERT INTO users (name, password_hash, roles, disabled, created_at)
         VALUES (?, ?, ?, 0, ?)",
    )
    .bind(name)
    .bind(hash)
    .bind(roles)
    .bind(now_unix())
    .execute(pool)
    .await
    .map_err(|e| shared::user_insert_error(e, name))?;
    Ok(())
}

pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(|row| shared::user(row, &USER)).collect()
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
    require_user(done.rows_affected(), name)?;
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
    require_user(done.rows_affected(), name)?;
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
    let (user, phc) = shared::user_and_hash(row.as_ref())?;
    // Unknown, disabled and wrong-password users all pay exactly one verification.
    let matched = verify_blocking(password, phc).await?;
    Ok(user.filter(|u| matched && !u.disabled))
}
