//! `WWW-Authenticate` challenges: one per accepted scheme, fixed order, `realm` first,
//! every value a quoted-string (numbers too: `max_age="300"`, as RFC 9470's own example).
//! With `[server] resource`, every Bearer challenge names the metadata right after `realm`
//! (RFC 9728 §5.1), so all Bearer challenges of one configuration share their first two
//! parameters and the error parameters come after.

use crate::rules::Schemes;

/// The error a Bearer challenge reports (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No error: the request carried no usable credential.
    None,
    /// 400: the credential was sent malformed or more than one way.
    InvalidRequest,
    /// 401: the token is not valid here.
    InvalidToken(&'static str),
    /// 403: the token lacks scopes.
    InsufficientScope(String),
    /// 401: the user must sign in again, more strongly or more recently (RFC 9470).
    InsufficientUserAuthentication {
        /// The generic `error_description`.
        description: &'static str,
        /// Space-separated `acr` values that would do (empty: not sent).
        acr_values: String,
        /// Seconds since the sign-in that would do (`None`: not sent).
        max_age: Option<u64>,
    },
}

/// Quotes a value as an RFC 9110 quoted-string, escaping `"` and `\`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The challenges for a rule's schemes: Bearer (with its error and, when configured, the
/// URL of the resource metadata) first, then Basic.
pub fn challenges(
    realm: &str,
    resource_metadata: Option<&str>,
    schemes: Schemes,
    error: &BearerError,
) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if schemes.bearer() {
        out.push(bearer(realm, resource_metadata, error));
    }
    // Scope and request-syntax errors are Bearer's alone (RFC 6750); Basic is offered only when
    // Bearer is not.
    let bearer_only = matches!(
        error,
        BearerError::InsufficientScope(_) | BearerError::InvalidRequest
    );
    if schemes.basic && !(bearer_only && schemes.bearer()) {
        out.push(format!("Basic realm={}, charset=\"UTF-8\"", quote(realm)));
    }
    out
}

/// One Bearer challenge: `realm`, then `resource_metadata`, then the error's parameters.
pub fn bearer(realm: &str, resource_metadata: Option<&str>, error: &BearerError) -> String {
    let mut out = format!("Bearer realm={}", quote(realm));
    if let Some(url) = resource_metadata {
        param(&mut out, "resource_metadata", url);
    }
    match error {
        BearerError::None => {}
        BearerError::InvalidRequest => param(&mut out, "error", "invalid_request"),
        BearerError::InvalidToken(description) => {
            param(&mut out, "error", "invalid_token");
            param(&mut out, "error_description", description);
        }
        BearerError::InsufficientScope(scope) => {
            param(&mut out, "error", "insufficient_scope");
            param(&mut out, "scope", scope);
        }
        BearerError::InsufficientUserAuthentication {
            description,
            acr_values,
            max_age,
        } => {
            param(&mut out, "error", "insufficient_user_authentication");
            param(&mut out, "error_description", description);
            if !acr_values.is_empty() {
                param(&mut out, "acr_values", acr_values);
            }
            if let Some(seconds) = max_age {
                param(&mut out, "max_age", &seconds.to_string());
            }
        }
    }
    out
}

/// Appends `, name="value"`.
fn param(out: &mut String, name: &str, value: &str) {
    out.push_str(", ");
    out.push_str(name);
    out.push('=');
    out.push_str(&quote(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Schemes = Schemes {
        jwt: true,
        basic: true,
        ..Schemes::NONE
    };

    #[test]
    fn realm_is_escaped_and_first() {
        let got = challenges("a \"b\" \\c", None, BOTH, &BearerError::None);
        assert_eq!(
            got,
            vec![
                r#"Bearer realm="a \"b\" \\c""#.to_owned(),
                r#"Basic realm="a \"b\" \\c", charset="UTF-8""#.to_owned(),
            ]
        );
    }

    #[test]
    fn scope_challenge_is_bearer_only() {
        let got = challenges(
            "r",
            None,
            BOTH,
            &BearerError::InsufficientScope("a b".into()),
        );
        assert_eq!(
            got,
            vec![r#"Bearer realm="r", error="insufficient_scope", scope="a b""#.to_owned()]
        );
    }

    #[test]
    fn basic_only_rule_has_no_bearer() {
        let basic = Schemes {
            basic: true,
            ..Schemes::NONE
        };
        let got = challenges("r", None, basic, &BearerError::InvalidRequest);
        assert_eq!(got, vec![r#"Basic realm="r", charset="UTF-8""#.to_owned()]);
    }
}
