//! Federated session queries: sign-ins at an OpenID Provider, whose subject is not in `users`.

use sqlx::{SqliteExecutor, SqlitePool};

use super::sessions::touch;
use crate::federated::{self, Lists, LogoutTarget};
use crate::session::{self, hash_token, looks_like_federated};
use crate::shared::{self, FEDERATED_COLUMNS};
use crate::validate::encode_roles;
use crate::{FederatedLogin, FederatedSession, NewSession, SessionLimits, StoreError};

pub(super) async fn create(
    pool: &SqlitePool,
    login: &FederatedLogin,
    now: i64,
    limits: SessionLimits,
) -> Result<NewSession, StoreError> {
    let lists = federated::lists(login)?;
    let (new, token_hash) = federated::start(login, now, limits)?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Sweeping at sign-in keeps the table bounded without a background timer.
    sqlx::query("DELETE FROM federated_sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    insert(&mut *tx, &new, &token_hash, login, &lists).await?;
    tx.commit().await?;
    Ok(new)
}

async fn insert(
    db: impl SqliteExecutor<'_>,
    new: &NewSession,
    token_hash: &str,
    login: &FederatedLogin,
    lists: &Lists,
) -> Result<(), StoreError> {
    let record = &new.record;
    sqlx::query(
        "INSERT INTO federated_sessions (id, token_hash, provider, subject, roles, acr, amr,
             auth_time, sid, refresh_token, id_token, refresh_at, created_at, last_seen,
             expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&record.id)
    .bind(token_hash)
    .bind(&login.provider)
    .bind(&login.subject)
    .bind(&lists.roles)
    .bind(&login.acr)
    .bind(&lists.amr)
    .bind(login.auth_time)
    .bind(&login.sid)
    .bind(&login.refresh_token)
    .bind(&login.id_token)
    .bind(login.refresh_at)
    .bind(record.created_at)
    .bind(record.last_seen)
    .bind(record.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub(super) async fn check(
    pool: &SqlitePool,
    token: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<Option<FederatedSession>, StoreError> {
    if !looks_like_federated(token) {
        return Ok(None);
    }
    // One lookup on the unique index of `token_hash`, as for password sessions.
    let sql = format!("SELECT {FEDERATED_COLUMNS} FROM federated_sessions WHERE token_hash = ?");
    let row = sqlx::query(&sql)
        .bind(hash_token(token))
        .fetch_optional(pool)
        .await?;
    let Some(mut found) = row.as_ref().map(shared::federated_session).transpose()? else {
        return Ok(None);
    };
    if !session::is_live(&found.session, now, limits) {
        return Ok(None);
    }
    if session::needs_touch(&found.session, now) {
        touch(pool, "federated_sessions", &found.session.id, now).await?;
        found.session.last_seen = now;
    }
    Ok(Some(found))
}

pub(super) async fn update_tokens(
    pool: &SqlitePool,
    id: &str,
    refresh_token: Option<&str>,
    id_token: Option<&str>,
    refresh_at: Option<i64>,
    roles: &[String],
) -> Result<(), StoreError> {
    let roles = encode_roles(roles)?;
    // COALESCE keeps the stored token when the provider did not send a new one.
    let done = sqlx::query(
        "UPDATE federated_sessions SET refresh_token = COALESCE(?, refresh_token),
             id_token = COALESCE(?, id_token), refresh_at = ?, roles = ?
         WHERE id = ?",
    )
    .bind(refresh_token)
    .bind(id_token)
    .bind(refresh_at)
    .bind(&roles)
    .bind(id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::UnknownSession(id.to_owned()));
    }
    Ok(())
}

/// One caller wins the refresh: the update only matches while the refresh is still due.
pub(super) async fn claim_refresh(
    pool: &SqlitePool,
    id: &str,
    now: i64,
    hold_until: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE federated_sessions SET refresh_at = ?
         WHERE id = ? AND refresh_at IS NOT NULL AND refresh_at <= ?",
    )
    .bind(hold_until)
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn revoke(
    pool: &SqlitePool,
    provider: &str,
    subject: Option<&str>,
    sid: Option<&str>,
    started_before: i64,
) -> Result<Vec<String>, StoreError> {
    let target = federated::logout_target(subject, sid)?;
    // One statement per target, so each uses its index (no `? IS NULL OR …`).
    let sql = match target {
        LogoutTarget::Subject(_) => {
            "DELETE FROM federated_sessions WHERE provider = ? AND created_at <= ? AND subject = ? RETURNING id"
        }
        LogoutTarget::Sid(_) => {
            "DELETE FROM federated_sessions WHERE provider = ? AND created_at <= ? AND sid = ? RETURNING id"
        }
        LogoutTarget::Both(..) => {
            "DELETE FROM federated_sessions WHERE provider = ? AND created_at <= ? AND subject = ? AND sid = ?
             RETURNING id"
        }
    };
    let query = sqlx::query_scalar(sql).bind(provider).bind(started_before);
    let query = target.values().into_iter().fold(query, |q, v| q.bind(v));
    let mut ids: Vec<String> = query.fetch_all(pool).await?;
    ids.sort();
    Ok(ids)
}
