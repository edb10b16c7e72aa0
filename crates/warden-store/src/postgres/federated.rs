//! Federated session queries: sign-ins at an OpenID Provider, whose subject is not in `users`.

use sqlx::{PgExecutor, PgPool};

use super::PgStore;
use super::sessions::touch;
use crate::federated::{self, Lists, LogoutTarget};
use crate::session::{self, hash_token, looks_like_federated};
use crate::shared::{self, FEDERATED_COLUMNS};
use crate::validate::encode_roles;
use crate::{FederatedLogin, FederatedSession, NewSession, SessionLimits, StoreError};

pub(super) async fn create(
    store: &PgStore,
    login: &FederatedLogin,
    now: i64,
    limits: SessionLimits,
) -> Result<NewSession, StoreError> {
    let lists = federated::lists(login)?;
    let (new, token_hash) = federated::start(login, now, limits)?;
    store
        .call(async {
            let mut tx = store.pool.begin().await?;
            // Sweeping at sign-in keeps the table bounded without a background timer.
            sqlx::query("DELETE FROM federated_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            insert(&mut *tx, &new, &token_hash, login, &lists).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
    Ok(new)
}

async fn insert(
    db: impl PgExecutor<'_>,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
    store: &PgStore,
    token: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<Option<FederatedSession>, StoreError> {
    // Checked before the call, so junk never waits on (or for) the database.
    if !looks_like_federated(token) {
        return Ok(None);
    }
    store
        .call(async {
            let Some(mut found) = lookup(&store.pool, token).await? else {
                return Ok(None);
            };
            if !session::is_live(&found.session, now, limits) {
                return Ok(None);
            }
            if session::needs_touch(&found.session, now) {
                touch(&store.pool, "federated_sessions", &found.session.id, now).await?;
                found.session.last_seen = now;
            }
            Ok(Some(found))
        })
        .await
}

/// The federated session with this token, as stored.
async fn lookup(pool: &PgPool, token: &str) -> Result<Option<FederatedSession>, StoreError> {
    // One lookup on the unique index of `token_hash`, as for password sessions.
    let sql = format!("SELECT {FEDERATED_COLUMNS} FROM federated_sessions WHERE token_hash = $1");
    let row = sqlx::query(&sql)
        .bind(hash_token(token))
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(shared::federated_session).transpose()
}

pub(super) async fn update_tokens(
    store: &PgStore,
    id: &str,
    refresh_token: Option<&str>,
    id_token: Option<&str>,
    refresh_at: Option<i64>,
    roles: &[String],
) -> Result<(), StoreError> {
    let roles = encode_roles(roles)?;
    // COALESCE keeps the stored token when the provider did not send a new one.
    let update = sqlx::query(
        "UPDATE federated_sessions SET refresh_token = COALESCE($1, refresh_token),
             id_token = COALESCE($2, id_token), refresh_at = $3, roles = $4
         WHERE id = $5",
    )
    .bind(refresh_token)
    .bind(id_token)
    .bind(refresh_at)
    .bind(&roles)
    .bind(id);
    let done = store
        .call(async { Ok(update.execute(&store.pool).await?) })
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::UnknownSession(id.to_owned()));
    }
    Ok(())
}

/// One caller wins the refresh: the update only matches while the refresh is still due.
pub(super) async fn claim_refresh(
    store: &PgStore,
    id: &str,
    now: i64,
    hold_until: i64,
) -> Result<bool, StoreError> {
    let update = sqlx::query(
        "UPDATE federated_sessions SET refresh_at = $1
         WHERE id = $2 AND refresh_at IS NOT NULL AND refresh_at <= $3",
    )
    .bind(hold_until)
    .bind(id)
    .bind(now);
    let done = store
        .call(async { Ok(update.execute(&store.pool).await?) })
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn revoke(
    store: &PgStore,
    provider: &str,
    subject: Option<&str>,
    sid: Option<&str>,
    started_before: i64,
) -> Result<Vec<String>, StoreError> {
    let target = federated::logout_target(subject, sid)?;
    // One statement per target, so each uses its index (no `$3 IS NULL OR …`).
    let sql = match target {
        LogoutTarget::Subject(_) => {
            "DELETE FROM federated_sessions WHERE provider = $1 AND created_at <= $2 AND subject = $3 RETURNING id"
        }
        LogoutTarget::Sid(_) => {
            "DELETE FROM federated_sessions WHERE provider = $1 AND created_at <= $2 AND sid = $3 RETURNING id"
        }
        LogoutTarget::Both(..) => {
            "DELETE FROM federated_sessions WHERE provider = $1 AND created_at <= $2 AND subject = $3 AND sid = $4
             RETURNING id"
        }
    };
    let query = sqlx::query_scalar(sql).bind(provider).bind(started_before);
    let query = target.values().into_iter().fold(query, |q, v| q.bind(v));
    let mut ids: Vec<String> = store
        .call(async { Ok(query.fetch_all(&store.pool).await?) })
        .await?;
    ids.sort();
    Ok(ids)
}
