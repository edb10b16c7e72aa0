//! Pending sign-in queries: the one-time state of an authorization-code flow.

use sqlx::SqlitePool;

use crate::session::hash_token;
use crate::shared::{self, PENDING_COLUMNS};
use crate::{PendingSignIn, StoreError};

pub(super) async fn put(
    pool: &SqlitePool,
    state: &str,
    pending: &PendingSignIn,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Abandoned flows are swept by the next one; no background timer.
    sqlx::query("DELETE FROM oidc_pending WHERE expires_at <= ?")
        .bind(pending.created_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO oidc_pending (state_hash, provider, nonce, code_verifier, return_to,
             acr_values, max_age, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hash_token(state))
    .bind(&pending.provider)
    .bind(&pending.nonce)
    .bind(&pending.code_verifier)
    .bind(&pending.return_to)
    .bind(&pending.acr_values)
    .bind(pending.max_age)
    .bind(pending.created_at)
    .bind(pending.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn take(
    pool: &SqlitePool,
    state: &str,
    now: i64,
) -> Result<Option<PendingSignIn>, StoreError> {
    // Deleting and reading in one statement makes the state single-use, even for two
    // callbacks racing each other.
    let sql = format!("DELETE FROM oidc_pending WHERE state_hash = ? RETURNING {PENDING_COLUMNS}");
    let row = sqlx::query(&sql)
        .bind(hash_token(state))
        .fetch_optional(pool)
        .await?;
    let pending = row.as_ref().map(shared::pending_sign_in).transpose()?;
    Ok(pending.filter(|p| now < p.expires_at))
}
