//! Schema creation and versioning in the one-row table `warden_schema`.
//!
//! The logical schema and its versions are SQLite's (see `sqlite/schema.rs`), in
//! PostgreSQL types; `user` is reserved there, so the sessions column is `user_name`.
//! Every statement uses unqualified names, so the schema is the connection's `search_path`.

use sqlx::{PgConnection, PgPool};

use crate::StoreError;
use crate::shared::{Steps, latest, pending};

/// Schema version this build reads and writes.
const SCHEMA_VERSION: i64 = latest(STEPS);

/// First key of the two-key advisory lock: warden's migrations ("wrdn" in ASCII).
const LOCK_CLASS: i32 = 0x7772_646e;

/// Statements that take an empty schema to version 1.
const V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS warden_schema (version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        roles TEXT NOT NULL,
        revoked BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL
    )",
];

/// Statements that take a version-1 schema to version 2 (browser sessions).
const V2: &[&str] = &[
    // The cascade keeps sessions from outliving their user row.
    "CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    // Disabling a user or changing a password deletes that user's sessions.
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_name)",
    // Every sign-in sweeps expired sessions; shared by many replicas, the table can be large.
    "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at)",
];

/// Statements that take a version-2 schema to version 3 (sign-in at OpenID Providers).
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
        auth_time BIGINT,
        sid TEXT,
        refresh_token TEXT,
        id_token TEXT,
        refresh_at BIGINT,
        created_at BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
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
        max_age BIGINT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS oidc_pending_expires ON oidc_pending (expires_at)",
];

/// Migration steps in order: the version each reaches and its statements.
const STEPS: Steps = &[(1, V1), (2, V2), (3, V3)];

/// Brings the schema to [`SCHEMA_VERSION`], refusing one from a newer build.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // Held until the transaction ends, so replicas starting together migrate one at a
    // time; keyed by schema, so separate schemas (tests, tenants) do not wait on each other.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))")
        .bind(LOCK_CLASS)
        .execute(&mut *tx)
        .await?;
    let statements = pending(STEPS, version(&mut tx).await?)?;
    if !statements.is_empty() {
        for statement in statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM warden_schema")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO warden_schema (version) VALUES ($1)")
            .bind(SCHEMA_VERSION)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The version recorded in `warden_schema`, 0 if the table does not exist.
pub(super) async fn version(conn: &mut PgConnection) -> Result<i64, StoreError> {
    // Checking first, rather than creating the table, keeps this read-only.
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('warden_schema') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM warden_schema")
        .fetch_one(&mut *conn)
        .await?;
    Ok(version.unwrap_or(0))
}
