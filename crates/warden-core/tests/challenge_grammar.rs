#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property: every challenge warden emits parses under the RFC 9110 §11.3 grammar, as a valid
//! header value, and its parameters round-trip (the realm read back is the realm configured).

use proptest::prelude::*;
use warden_core::challenge::{BearerError, challenges};
use warden_core::rules::Schemes;

/// RFC 9110 `tchar`.
fn tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses `auth-scheme 1*SP #auth-param` with quoted-string values: (scheme, params).
fn parse(challenge: &str) -> Result<(String, Vec<(String, String)>), String> {
    let (scheme, rest) = challenge.split_once(' ').ok_or("no parameters")?;
    if scheme.is_empty() || !scheme.chars().all(tchar) {
        return Err(format!("bad scheme {scheme:?}"));
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        let name: String = std::iter::from_fn(|| chars.next_if(|c| tchar(*c))).collect();
        if name.is_empty() || chars.next() != Some('=') || chars.next() != Some('"') {
            return Err(format!("bad parameter after {params:?}"));
        }
        let mut value = String::new();
        loop {
            match chars.next().ok_or("unterminated quoted-string")? {
                '"' => break,
                '\\' => value.push(chars.next().ok_or("dangling escape")?),
                c if c.is_control() && c != '\t' => return Err("control in quoted-string".into()),
                c => value.push(c),
            }
        }
        params.push((name.to_ascii_lowercase(), value));
        match (chars.next(), chars.next()) {
            (None, _) => return Ok((scheme.to_owned(), params)),
            (Some(','), Some(' ')) => {}
            other => return Err(format!("bad separator {other:?}")),
        }
    }
}

fn schemes() -> impl Strategy<Value = Schemes> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(jwt, basic, api_key)| Schemes {
        jwt,
        basic,
        api_key,
        session: false,
    })
}

fn error() -> impl Strategy<Value = BearerError> {
    prop_oneof![
        Just(BearerError::None),
        Just(BearerError::InvalidRequest),
        Just(BearerError::InvalidToken("the access token expired")),
        proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 1..4)
            .prop_map(|s| BearerError::InsufficientScope(s.join(" "))),
    ]
}

proptest! {
    #[test]
    fn every_challenge_parses_and_round_trips(
        realm in "[^\\p{Cc}]{1,40}",
        schemes in schemes(),
        error in error(),
    ) {
        for challenge in challenges(&realm, schemes, &error) {
            prop_assert!(http::HeaderValue::from_str(&challenge).is_ok(), "{challenge:?}");
            let (scheme, params) = parse(&challenge).map_err(TestCaseError::fail)?;
            prop_assert!(scheme == "Bearer" || scheme == "Basic", "{scheme}");
            prop_assert_eq!(&params[0], &("realm".to_owned(), realm.clone()));
            if let (BearerError::InsufficientScope(scope), "Bearer") = (&error, scheme.as_str()) {
                prop_assert!(params.contains(&("scope".to_owned(), scope.clone())));
            }
        }
    }
}
