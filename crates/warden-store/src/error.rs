//! The crate's single error type.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A user with this name already exists.
    #[error("user already exists: {0}")]
    UserExists(String),
    /// No user with this name.
    #[error("unknown user: {0}")]
    UnknownUser(String),
    /// No API key with this id.
    #[error("unknown api key: {0}")]
    UnknownKey(String),
    /// No session with this id.
    #[error("unknown session: {0}")]
    UnknownSession(String),
    /// The user exists but is disabled, so no session may be opened for it.
    #[error("user is disabled: {0}")]
    UserDisabled(String),
    /// The user or key name is not acceptable.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// A role name is not acceptable.
    #[error("invalid role: {0}")]
    InvalidRole(String),
    /// A back-channel logout named neither a subject nor a provider session id.
    #[error("logout names neither a subject nor a sid")]
    LogoutWithoutTarget,
    /// Password hashing or verification failed to run.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
    /// The database file was written by a newer warden.
    #[error("unsupported schema version {0}")]
    SchemaVersion(i64),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Redis failed.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// A call to a backend took longer than its timeout.
    #[error("{0} did not answer within {1} ms")]
    Timeout(&'static str, u64),
    /// A backend was found unreachable moments ago; the call was not tried (it is retried
    /// within half a second).
    #[error("{0} is unreachable")]
    Unreachable(&'static str),
    /// A backend URL cannot be used (the message names what is wrong, never the password).
    #[error("invalid url: {0}")]
    Url(String),
    /// The filesystem failed.
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// True when the store itself is unusable, so callers answer 503, never 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Database(_)
                | Self::Redis(_)
                | Self::Timeout(..)
                | Self::Unreachable(_)
                | Self::Io(_)
                | Self::SchemaVersion(_)
                | Self::Url(_)
        )
    }

    /// True when retrying later may succeed (connection refused, timeout, server restarting);
    /// false for what only an operator can fix (bad credentials, bad URL, newer schema).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(..) | Self::Unreachable(_) | Self::Io(_) => true,
            Self::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                ) || e
                    .as_database_error()
                    .and_then(|d| d.code())
                    // 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown,
                    // cannot connect now (starting up); 53300: too many connections; 40001,
                    // 40P01: a transaction lost a serialization race or a deadlock. Anything
                    // else (28P01 bad password, 3D000 no such database, ...) needs an operator.
                    .is_some_and(|c| {
                        c.starts_with("08")
                            || matches!(
                                &*c,
                                "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                            )
                    })
            }
            Self::Redis(e) => {
                use redis::{ErrorKind, ServerErrorKind as S};
                e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    // Loading its data after a restart, a cluster mid-failover or resharding:
                    // the server answers, but asks to be asked again.
                    || matches!(
                        e.kind(),
                        ErrorKind::Server(
                            S::BusyLoading | S::TryAgain | S::ClusterDown | S::MasterDown | S::ReadOnly
                        ) | ErrorKind::ClusterConnectionNotFound
                    )
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_only_for_backend_failures() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Io(std::io::Error::other("disk")).is_unavailable());
        assert!(StoreError::SchemaVersion(2).is_unavailable());
        assert!(StoreError::Unreachable("postgresql").is_unavailable());
        assert!(StoreError::Unreachable("postgresql").is_transient());
        assert!(!StoreError::UnknownUser("a".into()).is_unavailable());
        assert!(!StoreError::Hash("x".into()).is_unavailable());
        assert!(!StoreError::Random.is_unavailable());
        assert!(!StoreError::UnknownSession("a".into()).is_unavailable());
        assert!(!StoreError::UserDisabled("a".into()).is_unavailable());
        assert!(!StoreError::LogoutWithoutTarget.is_unavailable());
    }

    #[test]
    fn messages_are_lowercase_without_period() {
        let msg = StoreError::UserExists("bob".into()).to_string();
        assert_eq!(msg, "user already exists: bob");
        assert_eq!(StoreError::Random.to_string(), "random generator failed");
        let msg = StoreError::UnknownSession("0a1b".into()).to_string();
        assert_eq!(msg, "unknown session: 0a1b");
    }
}
