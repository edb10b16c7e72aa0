//! What the SQLite and PostgreSQL stores share besides their SQL: decoding rows
//! into records, choosing pending migration steps, and reading unique violations.

use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::validate::decode_roles;
use crate::{
    ApiKeyRecord, FederatedLogin, FederatedSession, PendingSignIn, SessionRecord, StoreError,
    UserRecord,
};

/// Migration steps in order: the version each reaches and its statements.
pub(crate) type Steps = &'static [(i64, &'static [&'static str])];

/// The version the last step reaches: the schema version a build reads and writes.
pub(crate) const fn latest(steps: Steps) -> i64 {
    match steps.last() {
        Some((version, _)) => *version,
        None => 0,
    }
}

/// Statements a database at `version` still needs, in order; `SchemaVersion` if it is newer.
pub(crate) fn pending(steps: Steps, version: i64) -> Result<Vec<&'static str>, StoreError> {
    if version > latest(steps) {
        return Err(StoreError::SchemaVersion(version));
    }
    let todo = steps.iter().filter(|(target, _)| version < *target);
    Ok(todo.flat_map(|(_, sql)| sql.iter().copied()).collect())
}

/// Maps a failed user insert: a duplicate name is `UserExists`, anything else stays a database error.
pub(crate) fn user_insert_error(e: sqlx::Error, name: &str) -> StoreError {
    // Relying on the primary key (not a prior SELECT) closes the race between two writers.
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::UserExists(name.to_owned())
        }
        e => e.into(),
    }
}

/// `UnknownUser` unless the update touched a row.
pub(crate) fn require_user(rows_affected: u64, name: &str) -> Result<(), StoreError> {
    if rows_affected == 0 {
        return Err(StoreError::UnknownUser(name.to_owned()));
    }
    Ok(())
}

/// Typed column access common to both backends' rows.
pub(crate) trait RecordRow {
    /// A TEXT column.
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    /// An integer (Unix seconds) column.
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    /// A flag column (INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL).
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
    /// A nullable TEXT column.
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    /// A nullable integer column.
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
}

impl<R> RecordRow for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        self.try_get(column)
    }

    fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
        self.try_get(column)
    }

    fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
        self.try_get(column)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(column)
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(column)
    }
}

/// Where a query put the user's columns.
pub(crate) struct UserColumns {
    name: &'static str,
    roles: &'static str,
    disabled: &'static str,
    created_at: &'static str,
}

/// The `users` table selected on its own.
pub(crate) const USER: UserColumns = UserColumns {
    name: "name",
    roles: "roles",
    disabled: "disabled",
    created_at: "created_at",
};

/// The user joined to a session: `user_name` from the session, the rest prefixed `user_`.
pub(crate) const JOINED_USER: UserColumns = UserColumns {
    name: "user_name",
    roles: "user_roles",
    disabled: "user_disabled",
    created_at: "user_created_at",
};

/// Decodes a user from the columns named by `cols`.
pub(crate) fn user(row: &impl RecordRow, cols: &UserColumns) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        name: row.text(cols.name)?,
        roles: decode_roles(&row.text(cols.roles)?),
        disabled: row.flag(cols.disabled)?,
        created_at: row.int(cols.created_at)?,
    })
}

/// Decodes a user selected with its `password_hash`; both `None` when no row was found.
pub(crate) fn user_and_hash(
    row: Option<&impl RecordRow>,
) -> Result<(Option<UserRecord>, Option<String>), StoreError> {
    match row {
        Some(row) => Ok((Some(user(row, &USER)?), Some(row.text("password_hash")?))),
        None => Ok((None, None)),
    }
}

/// Decodes an API key from `id, name, roles, revoked, created_at`.
pub(crate) fn api_key(row: &impl RecordRow) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        roles: decode_roles(&row.text("roles")?),
        revoked: row.flag("revoked")?,
        created_at: row.int("created_at")?,
    })
}

/// Decodes a session from `id, user_name, provider, created_at, last_seen, expires_at`.
///
/// `provider` is NULL for password sessions, which select it as a constant.
pub(crate) fn session(row: &impl RecordRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: row.text("id")?,
        user: row.text("user_name")?,
        provider: row.opt_text("provider")?,
        created_at: row.int("created_at")?,
        last_seen: row.int("last_seen")?,
        expires_at: row.int("expires_at")?,
    })
}

/// Decodes a federated session from [`FEDERATED_COLUMNS`].
pub(crate) fn federated_session(row: &impl RecordRow) -> Result<FederatedSession, StoreError> {
    let login = FederatedLogin {
        provider: row.text("provider")?,
        subject: row.text("user_name")?,
        roles: decode_roles(&row.text("roles")?),
        acr: row.opt_text("acr")?,
        amr: decode_roles(&row.text("amr")?),
        auth_time: row.opt_int("auth_time")?,
        sid: row.opt_text("sid")?,
        refresh_token: row.opt_text("refresh_token")?,
        id_token: row.opt_text("id_token")?,
        refresh_at: row.opt_int("refresh_at")?,
    };
    Ok(FederatedSession {
        session: session(row)?,
        login,
    })
}

/// The `federated_sessions` columns [`federated_session`] reads, the subject as `user_name`.
pub(crate) const FEDERATED_COLUMNS: &str = "id, provider, subject AS user_name, roles, acr, amr,
    auth_time, sid, refresh_token, id_token, refresh_at, created_at, last_seen, expires_at";

/// The `oidc_pending` columns [`pending_sign_in`] reads.
pub(crate) const PENDING_COLUMNS: &str =
    "provider, nonce, code_verifier, return_to, acr_values, max_age, created_at, expires_at";

/// Decodes a pending sign-in from [`PENDING_COLUMNS`].
pub(crate) fn pending_sign_in(row: &impl RecordRow) -> Result<PendingSignIn, StoreError> {
    Ok(PendingSignIn {
        provider: row.text("provider")?,
        nonce: row.text("nonce")?,
        code_verifier: row.text("code_verifier")?,
        return_to: row.text("return_to")?,
        acr_values: row.opt_text("acr_values")?,
        max_age: row.opt_int("max_age")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STEPS: Steps = &[(1, &["a", "b"]), (2, &["c"])];

    #[test]
    fn pending_runs_missing_steps_and_refuses_newer() {
        assert_eq!(latest(STEPS), 2);
        assert_eq!(pending(STEPS, 0).unwrap(), ["a", "b", "c"]);
        assert_eq!(pending(STEPS, 1).unwrap(), ["c"]);
        assert!(pending(STEPS, 2).unwrap().is_empty());
        assert!(matches!(
            pending(STEPS, 3),
            Err(StoreError::SchemaVersion(3))
        ));
    }
}
