//! Sign-in through an OpenID Provider: federated sessions, whose subject is not a row of
//! `users`, and the one-time state of an authorization-code flow in progress.

use crate::session::{self, FEDERATED_PREFIX};
use crate::validate::{encode_roles, validate_name};
use crate::{NewSession, SessionLimits, SessionRecord, StoreError};

/// What a sign-in at a provider proved, as the server keeps it for the session.
#[derive(Clone, PartialEq, Eq)]
pub struct FederatedLogin {
    /// The provider's configured name.
    pub provider: String,
    /// The subject the provider vouched for (the session's user).
    pub subject: String,
    /// Roles granted, as read from the provider's claims at sign-in or the last refresh.
    pub roles: Vec<String>,
    /// The `acr` claim: the authentication context class the provider satisfied.
    pub acr: Option<String>,
    /// The `amr` claim: the authentication methods used.
    pub amr: Vec<String>,
    /// The `auth_time` claim, seconds since the Unix epoch.
    pub auth_time: Option<i64>,
    /// The `sid` claim: the provider's session id, named by back-channel logout.
    pub sid: Option<String>,
    /// The provider's refresh token, if it issued one.
    pub refresh_token: Option<String>,
    /// The last ID token, for `id_token_hint` at sign-out.
    pub id_token: Option<String>,
    /// When the server must refresh (or re-check) the provider's tokens, Unix seconds.
    pub refresh_at: Option<i64>,
}

impl std::fmt::Debug for FederatedLogin {
    // Keeps the provider's tokens out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedLogin")
            .field("provider", &self.provider)
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .field("acr", &self.acr)
            .field("amr", &self.amr)
            .field("auth_time", &self.auth_time)
            .field("sid", &self.sid)
            .field("refresh_token", &redacted(self.refresh_token.as_ref()))
            .field("id_token", &redacted(self.id_token.as_ref()))
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// A live federated session: its record (user = subject) and what the sign-in proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedSession {
    /// The session as listed; `provider` is always `Some`.
    pub session: SessionRecord,
    /// The login, tokens included, as last stored.
    pub login: FederatedLogin,
}

/// An authorization-code flow in progress, kept until its callback (or expiry).
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The provider the browser was sent to.
    pub provider: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier to redeem the code with.
    pub code_verifier: String,
    /// Where to send the browser after signing in (already checked as a safe address).
    pub return_to: String,
    /// The `acr_values` asked for, if any.
    pub acr_values: Option<String>,
    /// The `max_age` asked for, in seconds, if any.
    pub max_age: Option<i64>,
    /// When the flow started, Unix seconds.
    pub created_at: i64,
    /// When the flow stops being accepted, Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for PendingSignIn {
    // The nonce and the verifier are secrets until the callback.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("provider", &self.provider)
            .field("nonce", &"<redacted>")
            .field("code_verifier", &"<redacted>")
            .field("return_to", &self.return_to)
            .field("acr_values", &self.acr_values)
            .field("max_age", &self.max_age)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn redacted(secret: Option<&String>) -> Option<&'static str> {
    secret.map(|_| "<redacted>")
}

/// A login's role and `amr` lists, encoded for their columns like `users.roles`.
pub(crate) struct Lists {
    /// The encoded roles.
    pub(crate) roles: String,
    /// The encoded `amr` values.
    pub(crate) amr: String,
}

/// Checks the login and encodes its lists; `InvalidName` / `InvalidRole` if unfit to store.
pub(crate) fn lists(login: &FederatedLogin) -> Result<Lists, StoreError> {
    validate_name(&login.provider)?;
    if login.subject.is_empty() {
        return Err(StoreError::InvalidName(String::new()));
    }
    Ok(Lists {
        roles: encode_roles(&login.roles)?,
        amr: encode_roles(&login.amr)?,
    })
}

/// A new federated session for `login` at `now`, and the token hash to store for it.
pub(crate) fn start(
    login: &FederatedLogin,
    now: i64,
    limits: SessionLimits,
) -> Result<(NewSession, String), StoreError> {
    let subject = &login.subject;
    session::open(
        FEDERATED_PREFIX,
        subject,
        Some(&login.provider),
        now,
        limits,
    )
}

/// Which of a provider's sessions a back-channel logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutTarget<'a> {
    /// Every session of this subject.
    Subject(&'a str),
    /// The sessions signed in during this provider session.
    Sid(&'a str),
    /// The sessions of this subject signed in during this provider session.
    Both(&'a str, &'a str),
}

impl<'a> LogoutTarget<'a> {
    /// The values to bind after the provider: the subject, then the sid, as named.
    pub(crate) fn values(self) -> Vec<&'a str> {
        match self {
            Self::Subject(subject) => vec![subject],
            Self::Sid(sid) => vec![sid],
            Self::Both(subject, sid) => vec![subject, sid],
        }
    }
}

/// The target a logout names; `LogoutWithoutTarget` when it names neither.
pub(crate) fn logout_target<'a>(
    subject: Option<&'a str>,
    sid: Option<&'a str>,
) -> Result<LogoutTarget<'a>, StoreError> {
    match (subject, sid) {
        (Some(subject), Some(sid)) => Ok(LogoutTarget::Both(subject, sid)),
        (Some(subject), None) => Ok(LogoutTarget::Subject(subject)),
        (None, Some(sid)) => Ok(LogoutTarget::Sid(sid)),
        (None, None) => Err(StoreError::LogoutWithoutTarget),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn login() -> FederatedLogin {
        FederatedLogin {
            provider: "corp".into(),
            subject: "248289761001".into(),
            roles: vec!["dev".into()],
            acr: Some("urn:mace:incommon:iap:silver".into()),
            amr: vec!["pwd".into(), "otp".into()],
            auth_time: Some(1),
            sid: Some("08a5019c".into()),
            refresh_token: Some("rt-secret-value".into()),
            id_token: Some("eyJ.id-token.sig".into()),
            refresh_at: Some(2),
        }
    }

    #[test]
    fn debug_hides_tokens_and_flow_secrets() {
        let shown = format!("{:?}", login());
        assert!(!shown.contains("rt-secret-value") && !shown.contains("id-token"));
        assert!(
            shown.contains("08a5019c") && shown.contains("<redacted>"),
            "{shown}"
        );
        let pending = PendingSignIn {
            provider: "corp".into(),
            nonce: "n-0S6_WzA2Mj".into(),
            code_verifier: "dBjftJeZ4CVP".into(),
            return_to: "/app".into(),
            acr_values: None,
            max_age: None,
            created_at: 1,
            expires_at: 2,
        };
        let shown = format!("{pending:?}");
        assert!(!shown.contains("n-0S6_WzA2Mj") && !shown.contains("dBjftJeZ4CVP"));
        assert!(shown.contains("/app"), "{shown}");
    }

    #[test]
    fn lists_are_validated_and_encoded() {
        let stored = lists(&login()).unwrap();
        assert_eq!(
            (stored.roles.as_str(), stored.amr.as_str()),
            ("dev", "pwd\notp")
        );
        let bad_role = FederatedLogin {
            roles: vec!["a b".into()],
            ..login()
        };
        assert!(matches!(lists(&bad_role), Err(StoreError::InvalidRole(_))));
        let no_subject = FederatedLogin {
            subject: String::new(),
            ..login()
        };
        assert!(matches!(
            lists(&no_subject),
            Err(StoreError::InvalidName(_))
        ));
    }

    #[test]
    fn logout_needs_a_subject_or_a_sid() {
        assert_eq!(
            logout_target(Some("s"), Some("x")).unwrap(),
            LogoutTarget::Both("s", "x")
        );
        assert_eq!(
            logout_target(None, Some("x")).unwrap(),
            LogoutTarget::Sid("x")
        );
        assert!(matches!(
            logout_target(None, None),
            Err(StoreError::LogoutWithoutTarget)
        ));
    }
}
