//! `WWW-Authenticate` challenges: one per accepted scheme, fixed order, `realm` first,
//! every value a quoted-string.

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

/// The challenges for a rule's schemes: Bearer (with its error) first, then Basic.
pub fn challenges(realm: &str, schemes: Schemes, error: &BearerError) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if schemes.bearer() {
        out.push(bearer(realm, error));
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

fn bearer(realm: &str, error: &BearerError) -> String {
    let realm = quote(realm);
    match error {
        BearerError::None => format!("Bearer realm={realm}"),
        BearerError::InvalidRequest => format!("Bearer realm={realm}, error=\"invalid_request\""),
        BearerError::InvalidToken(description) => {
            format!(
                "Bearer realm={realm}, error=\"invalid_token\", error_description={}",
                quote(description)
            )
        }
        BearerError::InsufficientScope(scope) => {
            format!(
                "Bearer realm={realm}, error=\"insufficient_scope\", scope={}",
                quote(scope)
            )
        }
    }
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
        let got = challenges("a \"b\" \\c", BOTH, &BearerError::None);
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
        let got = challenges("r", BOTH, &BearerError::InsufficientScope("a b".into()));
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
        let got = challenges("r", basic, &BearerError::InvalidRequest);
        assert_eq!(got, vec![r#"Basic realm="r", charset="UTF-8""#.to_owned()]);
    }
}
