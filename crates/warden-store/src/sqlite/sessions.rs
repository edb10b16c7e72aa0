//! Session queries.

use sqlx::{SqliteExecutor, SqlitePool};

use crate::session::{self, hash_token, looks_like_session};
use crate::shared::{self, JOINED_USER};
use crate::{NewSession, SessionLimits, SessionRecord, StoreError, UserRecord};

/// Live sessions of both kinds, oldest first; binds `now` twice.
const LIST: &str = "
    SELECT id, user AS user_name, NULL AS provider, created_at, last_seen, expires_at
    FROM sessions WHERE expires_at > ?
    UNION ALL
    SELECT id, subject AS user_name, provider, created_at, last_seen, expires_at
    FROM federated_sessions WHERE expires_at > ?
    ORDER BY created_at, id";

pub(super) async fn create(
    pool: &SqlitePool,
    user: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<NewSession, StoreError> {
    let (new, token_hash) = session::start(user, now, limits)?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Sweeping at sign-in keeps the table bounded without a background timer.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if !insert(&mut *tx, &new.record, &token_hash).await? {
        return Err(refusal(&mut *tx, user).await);
    }
    tx.commit().await?;
    Ok(new)
}

/// Inserts the row if its user exists and is enabled; false otherwise.
async fn insert(
    db: impl SqliteExecutor<'_>,
    record: &SessionRecord,
    token_hash: &str,
) -> Result<bool, StoreError> {
    // Selecting from `users` makes the existence and enabled checks part of the
    // write, so a concurrent disable cannot leave a live session behind.
    let done = sqlx::query(
        "INSERT INTO sessions (id, token_hash, user, created_at, last_seen, expires_at)
         SELECT ?, ?, name, ?, ?, ? FROM users WHERE name = ? AND disabled = 0",
    )
    .bind(&record.id)
    .bind(token_hash)
    .bind(record.created_at)
    .bind(record.last_seen)
    .bind(record.expires_at)
    .bind(&record.user)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Why no session row was inserted for `user`.
async fn refusal(db: impl SqliteExecutor<'_>, user: &str) -> StoreError {
    let found = sqlx::query_scalar::<_, bool>("SELECT disabled FROM users WHERE name = ?")
        .bind(user)
        .fetch_optional(db)
        .await;
    match found {
        Ok(disabled) => session::refusal(user, disabled),
        Err(e) => e.into(),
    }
}

pub(super) async fn check(
    pool: &SqlitePool,
    token: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    if !looks_like_session(token) {
        return Ok(None);
    }
    // Lookup by hash, as for API keys; roles and status come from `users`
    // now, so a change to the user applies to sessions already open.
    let row = sqlx::query(
        "SELECT s.id, s.user AS user_name, NULL AS provider, s.created_at, s.last_seen,
                s.expires_at,
                u.roles AS user_roles, u.disabled AS user_disabled,
                u.created_at AS user_created_at
         FROM sessions s JOIN users u ON u.name = s.user
         WHERE s.token_hash = ?",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (mut session, user) = (shared::session(&row)?, shared::user(&row, &JOINED_USER)?);
    if !session::admits(&session, &user, now, limits) {
        return Ok(None);
    }
    if session::needs_touch(&session, now) {
        touch(pool, "sessions", &session.id, now).await?;
        session.last_seen = now;
    }
    Ok(Some((session, user)))
}

/// Moves `last_seen` of session `id` in `table` (`sessions` or `federated_sessions`) to `now`.
pub(super) async fn touch(
    pool: &SqlitePool,
    table: &'static str,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    // The guard keeps a slower concurrent request from moving `last_seen` back.
    let sql = format!("UPDATE {table} SET last_seen = ? WHERE id = ? AND last_seen < ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn list(pool: &SqlitePool, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
    let rows = sqlx::query(LIST)
        .bind(now)
        .bind(now)
        .fetch_all(pool)
        .await?;
    rows.iter().map(shared::session).collect()
}

/// Deletes the session `id` of either kind.
pub(super) async fn revoke(pool: &SqlitePool, id: &str) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut deleted = 0;
    for sql in [
        "DELETE FROM sessions WHERE id = ?",
        "DELETE FROM federated_sessions WHERE id = ?",
    ] {
        deleted += sqlx::query(sql)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    if deleted == 0 {
        return Err(StoreError::UnknownSession(id.to_owned()));
    }
    Ok(())
}

/// Deletes every session of `user`; any executor, so user updates run it in their transaction.
pub(super) async fn end_all(db: impl SqliteExecutor<'_>, user: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user = ?")
        .bind(user)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
