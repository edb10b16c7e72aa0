//! Records returned by the store; secrets and hashes are deliberately absent.

/// A user as seen by callers (the password hash never leaves the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Roles granted to the user.
    pub roles: Vec<String>,
    /// Disabled users cannot authenticate.
    pub disabled: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

/// An API key as seen by callers (neither plaintext nor hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Short public identifier, used to list and revoke.
    pub id: String,
    /// Name of the principal the key authenticates as.
    pub name: String,
    /// Roles granted to the key.
    pub roles: Vec<String>,
    /// Revoked keys cannot authenticate.
    pub revoked: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}
