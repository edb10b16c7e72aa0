//! User queries.

use sqlx::PgPool;

use super::{PgStore, sessions};
use crate::clock::now_unix;
use crate::password::{hash_blocking, verify_blocking};
use crate::shared::{self, USER, require_user};
use crate::validate::{encode_roles, validate_name};
use crate::{StoreError, UserRecord};

const USER_COLUMNS: &str = "name, roles, disabled, created_at";

/// Hashes outside the timeout (argon2 is ours, not the database's), then inserts.
pub(super) async fn add(
    store: &PgStore,
    name: &str,
    password: &str,
    roles: &[String],
) -> Result<(), StoreError> {
    validate_name(name)?;
    let roles = encode_roles(roles)?;
    let hash = hash_blocking(password).await?;
    store
        .call(async {
            sqlx::query(
                "INSERT INTO users (name, password_hash, roles, disabled, created_at)
                 VALUES ($1, $2, $3, FALSE, $4)",
            )
            .bind(name)
            .bind(&hash)
            .bind(&roles)
            .bind(now_unix())
            .execute(&store.pool)
            .await
            .map_err(|e| shared::user_insert_error(e, name))?;
            Ok(())
        })
        .await
}

pub(super) async fn list(pool: &PgPool) -> Result<Vec<UserRecord>, StoreError> {
    // "C" orders by bytes, as SQLite does, whatever the database's collation.
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name COLLATE \"C\"");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(|row| shared::user(row, &USER)).collect()
}

pub(super) async fn set_disabled(
    pool: &PgPool,
    name: &str,
    disabled: bool,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
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

/// Hashes outside the timeout, then updates and ends the user's sessions in one transaction.
pub(super) async fn set_password(
    store: &PgStore,
    name: &str,
    password: &str,
) -> Result<(), StoreError> {
    let hash = hash_blocking(password).await?;
    store
        .call(async {
            let mut tx = store.pool.begin().await?;
            let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
                .bind(&hash)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            require_user(done.rows_affected(), name)?;
            // A password change is how a user evicts whoever stole the old one.
            sessions::end_all(&mut *tx, name).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
}

/// Reads the user within the timeout, then verifies outside it.
pub(super) async fn check_password(
    store: &PgStore,
    name: &str,
    password: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1");
    let (user, phc) = store
        .call(async {
            let row = sqlx::query(&sql)
                .bind(name)
                .fetch_optional(&store.pool)
                .await?;
            shared::user_and_hash(row.as_ref())
        })
        .await?;
    // Unknown, disabled and wrong-password users all pay exactly one verification.
    let matched = verify_blocking(password, phc).await?;
    Ok(user.filter(|u| matched && !u.disabled))
}
