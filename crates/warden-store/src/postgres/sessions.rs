//! Session queries.

use sqlx::{PgExecutor, PgPool};

use super::PgStore;
use crate::session::{self, hash_token, looks_like_session};
use crate::shared::{self, JOINED_USER};
use crate::{NewSession, SessionLimits, SessionRecord, StoreError, UserRecord};

/// Live sessions of both kinds, oldest first.
const LIST: &str = "
    SELECT id, user_name, NULL::text AS provider, created_at, last_seen, expires_at
    FROM sessions WHERE expires_at > $1
    UNION ALL
    SELECT id, subject AS user_name, provider, created_at, last_seen, expires_at
    FROM federated_sessions WHERE expires_at > $1
    ORDER BY created_at, id";

pub(super) async fn create(
    store: &PgStore,
    user: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<NewSession, StoreError> {
    let (new, token_hash) = session::start(user, now, limits)?;
    store
        .call(async {
            let mut tx = store.pool.begin().await?;
            // Sweeping at sign-in keeps the table bounded without a background timer.
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if !insert(&mut *tx, &new.record, &token_hash).await? {
                return Err(refusal(&mut *tx, user).await);
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
    Ok(new)
}

/// Inserts the row if its user exists and is enabled; false otherwise.
async fn insert(
    db: impl PgExecutor<'_>,
    record: &SessionRecord,
    token_hash: &str,
) -> Result<bool, StoreError> {
    // Selecting from `users` makes the existence and enabled checks part of the write.
    // FOR SHARE makes a concurrent disable wait for this insert (its delete then sees
    // the new row) or this insert wait for the disable (and re-read `disabled`).
    let done = sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_name, created_at, last_seen, expires_at)
         SELECT $1, $2, name, $3, $4, $5 FROM users WHERE name = $6 AND NOT disabled
         FOR SHARE",
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
async fn refusal(db: impl PgExecutor<'_>, user: &str) -> StoreError {
    let found = sqlx::query_scalar::<_, bool>("SELECT disabled FROM users WHERE name = $1")
        .bind(user)
        .fetch_optional(db)
        .await;
    match found {
        Ok(disabled) => session::refusal(user, disabled),
        Err(e) => e.into(),
    }
}

pub(super) async fn check(
    store: &PgStore,
    token: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    if !looks_like_session(token) {
        return Ok(None);
    }
    store
        .call(async {
            let Some((mut session, user)) = lookup(&store.pool, token).await? else {
                return Ok(None);
            };
            if !session::admits(&session, &user, now, limits) {
                return Ok(None);
            }
            if session::needs_touch(&session, now) {
                touch(&store.pool, "sessions", &session.id, now).await?;
                session.last_seen = now;
            }
            Ok(Some((session, user)))
        })
        .await
}

/// The session with this token and its user, as they are now.
async fn lookup(
    pool: &PgPool,
    token: &str,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    // Lookup by hash, as for API keys; roles and status come from `users`
    // now, so a change to the user applies to sessions already open.
    let row = sqlx::query(
        "SELECT s.id, s.user_name, NULL::text AS provider, s.created_at, s.last_seen,
                s.expires_at,
                u.roles AS user_roles, u.disabled AS user_disabled,
                u.created_at AS user_created_at
         FROM sessions s JOIN users u ON u.name = s.user_name
         WHERE s.token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((shared::session(&row)?, shared::user(&row, &JOINED_USER)?)))
        .transpose()
}

/// Moves `last_seen` of session `id` in `table` (`sessions` or `federated_sessions`) to `now`.
pub(super) async fn touch(
    pool: &PgPool,
    table: &'static str,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    // The guard keeps a slower concurrent request from moving `last_seen` back.
    let sql = format!("UPDATE {table} SET last_seen = $1 WHERE id = $2 AND last_seen < $1");
    sqlx::query(&sql).bind(now).bind(id).execute(pool).await?;
    Ok(())
}

pub(super) async fn list(pool: &PgPool, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
    let rows = sqlx::query(LIST).bind(now).fetch_all(pool).await?;
    rows.iter().map(shared::session).collect()
}

/// Deletes the session `id` of either kind.
pub(super) async fn revoke(pool: &PgPool, id: &str) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let mut deleted = 0;
    for sql in [
        "DELETE FROM sessions WHERE id = $1",
        "DELETE FROM federated_sessions WHERE id = $1",
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
pub(super) async fn end_all(db: impl PgExecutor<'_>, user: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_name = $1")
        .bind(user)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
