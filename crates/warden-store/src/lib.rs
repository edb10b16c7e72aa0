//! warden's storage: users, API keys and sessions behind the [`Store`] trait,
//! with an embedded SQLite backend ([`SqliteStore`]), and failed-attempt
//! counting behind [`AttemptState`] ([`MemoryAttempts`] in process), and
//! Apache htpasswd files ([`Htpasswd`]).

pub mod api_key;
pub mod attempts;
pub mod clock;
mod error;
pub mod htpasswd;
pub mod password;
mod record;
pub mod session;
mod sqlite;
mod store;
mod validate;

pub use api_key::NewApiKey;
pub use attempts::{AttemptKey, AttemptLimits, AttemptState, MemoryAttempts};
pub use error::StoreError;
pub use htpasswd::{Htpasswd, HtpasswdCheck};
pub use record::{ApiKeyRecord, UserRecord};
pub use session::{NewSession, SessionLimits, SessionRecord};
pub use sqlite::{DB_FILE, SqliteStore};
pub use store::Store;
pub use validate::{validate_name, validate_role};
