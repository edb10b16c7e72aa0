//! warden's storage: users, API keys and sessions (password and federated, with the
//! pending state of OpenID sign-ins) behind the [`Store`] trait,
//! with an embedded SQLite backend ([`SqliteStore`]) and a PostgreSQL one
//! ([`PgStore`]) for several replicas, and failed-attempt
//! counting behind [`AttemptState`] ([`MemoryAttempts`] in process), and
//! Apache htpasswd files ([`Htpasswd`]).

pub mod api_key;
pub mod attempts;
mod breaker;
pub mod clock;
mod error;
mod federated;
pub mod htpasswd;
pub mod password;
mod postgres;
mod record;
mod redis_state;
pub mod revocation;
pub mod session;
mod shared;
mod sqlite;
mod store;
mod validate;

pub use api_key::NewApiKey;
pub use attempts::{AttemptKey, AttemptLimits, AttemptState, MemoryAttempts};
pub use error::StoreError;
pub use federated::{FederatedLogin, FederatedSession, PendingSignIn};
pub use htpasswd::{Htpasswd, HtpasswdCheck};
pub use postgres::PgStore;
pub use record::{ApiKeyRecord, UserRecord};
pub use redis_state::{RedisSpec, RedisState};
pub use revocation::Revocation;
pub use session::{NewSession, SessionLimits, SessionRecord};
pub use sqlite::{DB_FILE, SqliteStore};
pub use store::Store;
pub use validate::{validate_name, validate_role};
