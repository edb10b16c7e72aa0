//! Session queries.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor, SqlitePool};

use crate::session::{LAST_SEEN_GRANULARITY, hash_token, looks_like_session, mint};
use crate::validate::decode_roles;
use crate::{NewSession, SessionLimits, SessionRecord, StoreError, UserRecord};

const SESSION_COLUMNS: &str = "id, user, created_at, last_seen, expires_at";

pub(super) async fn create(
    pool: &SqlitePool,
    user: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<NewSession, StoreError> {
    let minted = mint()?;
    let record = SessionRecord {
        id: minted.id,
        user: user.to_owned(),
        created_at: now,
        last_seen: now,
        expires_at: now.saturating_add(limits.absolute),
    };
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Sweeping at sign-in keeps the table bounded without a background timer.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if !insert(&mut *tx, &record, &minted.hash).await? {
        return Err(refusal(&mut *tx, user).await);
    }
    tx.commit().await?;
    Ok(NewSession {
        token: minted.token,
        record,
    })
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
        Ok(Some(_)) => StoreError::UserDisabled(user.to_owned()),
        Ok(None) => StoreError::UnknownUser(user.to_owned()),
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
        "SELECT s.id, s.user, s.created_at, s.last_seen, s.expires_at,
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
    let (mut session, user) = (session_from_row(&row)?, user_from_row(&row)?);
    if !is_live(&session, now, limits) || user.disabled {
        return Ok(None);
    }
    if now.saturating_sub(session.last_seen) >= LAST_SEEN_GRANULARITY {
        touch(pool, &session.id, now).await?;
        session.last_seen = now;
    }
    Ok(Some((session, user)))
}

/// True while neither the absolute nor the idle limit has been reached.
fn is_live(session: &SessionRecord, now: i64, limits: SessionLimits) -> bool {
    now < session.expires_at && now.saturating_sub(session.last_seen) < limits.idle
}

async fn touch(pool: &SqlitePool, id: &str, now: i64) -> Result<(), StoreError> {
    // The guard keeps a slower concurrent request from moving `last_seen` back.
    sqlx::query("UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen < ?")
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn list(pool: &SqlitePool, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE expires_at > ? ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(now).fetch_all(pool).await?;
    rows.iter().map(session_from_row).collect()
}

pub(super) async fn revoke(pool: &SqlitePool, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
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

fn session_from_row(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user: row.try_get("user")?,
        created_at: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The user half of the joined row in [`check`].
fn user_from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        name: row.try_get("user")?,
        roles: decode_roles(row.try_get("user_roles")?),
        disabled: row.try_get("user_disabled")?,
        created_at: row.try_get("user_created_at")?,
    })
}
