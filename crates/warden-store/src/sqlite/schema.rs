//! Schema creation and versioning via `PRAGMA user_version`.

use sqlx::SqlitePool;

use crate::StoreError;

/// Schema version this build reads and writes.
const SCHEMA_VERSION: i64 = 1;

/// Statements that take an empty database to version 1.
const V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        roles TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
];

/// Brings the database to [`SCHEMA_VERSION`], refusing files from a newer build.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock before reading the version, so a CLI and
    // a server opening a fresh file together cannot both run the migration.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *tx)
        .await?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion(version));
    }
    if version < 1 {
        for statement in V1 {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        // PRAGMA takes no bound parameters; the value is a constant.
        sqlx::query("PRAGMA user_version = 1")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
