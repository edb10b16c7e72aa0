//! warden's storage: users and API keys behind the [`Store`] trait, with an
//! embedded SQLite backend ([`SqliteStore`]).

pub mod api_key;
pub mod clock;
mod error;
pub mod password;
mod record;
mod sqlite;
mod store;
mod validate;

pub use api_key::NewApiKey;
pub use error::StoreError;
pub use record::{ApiKeyRecord, UserRecord};
pub use sqlite::{DB_FILE, SqliteStore};
pub use store::Store;
pub use validate::{validate_name, validate_role};
