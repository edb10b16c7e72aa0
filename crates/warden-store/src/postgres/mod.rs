//! PostgreSQL backend (to be written): see the brief in the session.

/// [`crate::Store`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {}
