//! Schema creation and versioning via `PRAGMA user_version`.

use sqlx::SqlitePool;

use crate::StoreError;
use crate::shared::{Steps, latest, pending};

/// Schema version this build reads and writes.
const SCHEMA_VERSION: i64 = latest(STEPS);

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

/// Statements that take a version-1 database to version 2 (browser sessions).
const V2: &[&str] = &[
    // The cascade keeps sessions from outliving their user row.
    "CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )",
    // Disabling a user or changing a password deletes that user's sessions.
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user)",
];

/// Statements that take a version-2 database to version 3 (sign-in at OpenID Providers).
const V3: &[&str] = &[
    // The subject is the provider's, not a row of `users`: no foreign key. `roles` and
    // `amr` are encoded like `users.roles`; the provider's tokens are kept to refresh.
    "CREATE TABLE IF NOT EXISTS federated_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        roles TEXT NOT NULL,
        acr TEXT,
        amr TEXT NOT NULL,
        auth_time INTEGER,
        sid TEXT,
        refresh_token TEXT,
        id_token TEXT,
        refresh_at INTEGER,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )",
    // Back-channel logout names a subject, a provider session, or both.
    "CREATE INDEX IF NOT EXISTS federated_sessions_subject
        ON federated_sessions (provider, subject)",
    "CREATE INDEX IF NOT EXISTS federated_sessions_sid ON federated_sessions (provider, sid)",
    "CREATE INDEX IF NOT EXISTS federated_sessions_expires ON federated_sessions (expires_at)",
    // Keyed by the SHA-256 of the `state` parameter, never the state itself.
    "CREATE TABLE IF NOT EXISTS oidc_pending (
        state_hash TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        nonce TEXT NOT NULL,
        code_verifier TEXT NOT NULL,
        return_to TEXT NOT NULL,
        acr_values TEXT,
        max_age INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS oidc_pending_expires ON oidc_pending (expires_at)",
];

/// Migration steps in order: the version each reaches and its statements.
/// A database at version `v` runs every step whose target is above `v`.
const STEPS: Steps = &[(1, V1), (2, V2), (3, V3)];

/// Brings the database to [`SCHEMA_VERSION`], refusing files from a newer build.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock before reading the version, so a CLI and
    // a server opening a fresh file together cannot both run the migration.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *tx)
        .await?;
    let statements = pending(STEPS, version)?;
    if !statements.is_empty() {
        for statement in statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        // PRAGMA takes no bound parameters; the value is a constant.
        sqlx::query(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
