//! Step-up denials (RFC 9470): what a 401 `insufficient_user_authentication` says, and what
//! the sign-in page is asked to pass on to the identity provider.

use crate::challenge::BearerError;
use crate::decision::Shortfall;
use crate::page;

/// What a step-up rule asks of the sign-in, and what fell short.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepUp<'a> {
    /// Any one of these `acr` values (empty: any).
    pub acr: &'a [String],
    /// At most this many seconds since the sign-in.
    pub max_age: Option<u64>,
    /// What fell short.
    pub shortfall: Shortfall,
}

impl StepUp<'_> {
    /// The challenge's error: every requirement of the rule, not only the one that failed, so
    /// the next token meets them all.
    pub(crate) fn error(&self) -> BearerError {
        let description = match self.shortfall {
            Shortfall::Acr => "a stronger authentication is required",
            Shortfall::Age => "a more recent authentication is required",
        };
        BearerError::InsufficientUserAuthentication {
            description,
            acr_values: self.acr.join(" "),
            max_age: self.max_age,
        }
    }

    /// The explanation for the client; right after a sign-in, why that sign-in did not do.
    pub(crate) fn detail(&self, just_signed_in: bool) -> String {
        let acr = self.acr.join(", ");
        let age = self.max_age.unwrap_or_default();
        match (self.shortfall, just_signed_in) {
            (Shortfall::Acr, false) => {
                format!("This request needs a stronger sign-in (one of: {acr}).")
            }
            (Shortfall::Age, false) => {
                format!("This request needs a sign-in within the last {age} seconds.")
            }
            (Shortfall::Acr, true) => format!(
                "You signed in, but not in a way this page accepts (it needs one of: {acr}). Sign in again with a stronger method."
            ),
            (Shortfall::Age, true) => format!(
                "You signed in, but the sign-in was not reported as being within the last {age} seconds. Sign in again."
            ),
        }
    }

    /// `&acr_values=…&max_age=…` for the login URL, after `rd`: only what the rule sets.
    pub(crate) fn login_query(&self) -> String {
        let mut out = String::new();
        if !self.acr.is_empty() {
            out.push_str("&acr_values=");
            out.push_str(&page::encode_component(&self.acr.join(" ")));
        }
        if let Some(seconds) = self.max_age {
            out.push_str(&format!("&max_age={seconds}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_query_carries_only_what_the_rule_sets() {
        let acr = ["mfa".to_owned(), "urn:x:phr".to_owned()];
        let both = StepUp {
            acr: &acr,
            max_age: Some(300),
            shortfall: Shortfall::Age,
        };
        assert_eq!(
            both.login_query(),
            "&acr_values=mfa%20urn%3Ax%3Aphr&max_age=300"
        );
        let acr_only = StepUp {
            max_age: None,
            ..both
        };
        assert_eq!(acr_only.login_query(), "&acr_values=mfa%20urn%3Ax%3Aphr");
        let age_only = StepUp { acr: &[], ..both };
        assert_eq!(age_only.login_query(), "&max_age=300");
    }
}
