//! Who a request is, and what an authenticator concluded about its credential.

use std::fmt;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A signed JWT.
    Jwt,
    /// Basic with a stored user's password.
    Basic,
    /// A browser session from the login page.
    Session,
    /// A `wdn_` API key.
    ApiKey,
    /// A browser session opened by a sign-in at an identity provider (OpenID Connect).
    Oidc,
    /// A bearer token the authorization server vouched for (RFC 7662 introspection).
    Introspection,
}

impl AuthMethod {
    /// The name used in headers and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Basic => "basic",
            Self::Session => "session",
            Self::ApiKey => "api_key",
            Self::Oidc => "oidc",
            Self::Introspection => "introspection",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// User name, key name or token subject.
    pub subject: String,
    /// Roles held.
    pub roles: Vec<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// How the identity was proven.
    pub method: AuthMethod,
    /// The authentication context class the sign-in met (a JWT's `acr`), when known.
    pub acr: Option<String>,
    /// When the user last authenticated, Unix seconds (a JWT's `auth_time`), when known.
    pub auth_time: Option<u64>,
    /// The verified claims (a JWT's payload, an introspection answer, an ID token), for
    /// rule conditions; `None` for Basic, API keys and password sessions.
    pub claims: Option<Claims>,
}

/// Verified claims, shared between the cache and every decision that uses them.
pub type Claims = std::sync::Arc<serde_json::Map<String, serde_json::Value>>;

/// Why a presented credential was not accepted (all answered 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Basic: bad base64, unknown user, wrong password or disabled account — never told apart.
    BadPassword,
    /// A bearer token or API key that is not valid here.
    InvalidToken(TokenProblem),
    /// A session cookie that is unknown, revoked, expired, or whose user is disabled.
    SessionEnded,
}

/// What is wrong with a bearer token; only `Expired` and `NotYetValid` are told to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a compact JWS, or its parts do not decode.
    Malformed,
    /// The signature does not verify.
    BadSignature,
    /// `alg` is not allowed for the key (`none`, HS on an asymmetric key, …).
    AlgorithmNotAllowed,
    /// No key with this `kid`, or no key for this algorithm.
    UnknownKey,
    /// `crit` names an extension we do not understand.
    UnknownCritical,
    /// `exp` is past (with leeway).
    Expired,
    /// `nbf` or `iat` is in the future (with leeway).
    NotYetValid,
    /// A required claim is missing or has the wrong type.
    BadClaims,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` does not name us.
    WrongAudience,
    /// `typ` is not an accepted type.
    WrongType,
    /// An unknown or revoked API key.
    UnknownApiKey,
    /// The authorization server says the token is not active (unknown, expired, revoked).
    Inactive,
}

impl TokenProblem {
    /// The generic, client-safe `error_description`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Expired => "the access token expired",
            Self::NotYetValid => "the access token is not valid yet",
            _ => "the access token is invalid",
        }
    }

    /// A short name for logs and `warden check`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::BadSignature => "bad_signature",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::UnknownKey => "unknown_key",
            Self::UnknownCritical => "unknown_critical_header",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BadClaims => "bad_claims",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongType => "wrong_type",
            Self::UnknownApiKey => "unknown_api_key",
            Self::Inactive => "inactive",
        }
    }
}

/// What an authenticator concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authn {
    /// The credential proves this identity.
    Authenticated(Identity),
    /// The credential was judged and refused.
    Rejected(Rejection),
    /// The credential could not be judged: a key source or store is down (503, never 401).
    Unavailable,
    /// Too many failed attempts from this client or for this user: not judged (429).
    Throttled {
        /// Seconds until another attempt is allowed.
        retry_after: u64,
    },
}
