#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property: every challenge warden emits parses under the RFC 9110 §11.3 grammar, as a valid
//! header value, and its parameters round-trip (the realm read back is the realm configured).
//! Every value is a quoted-string, numbers too (RFC 9470's `max_age="300"`): the parser
//! below accepts no bare tokens, so a bare one would fail it.

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
        ..Schemes::NONE
    })
}

fn error() -> impl Strategy<Value = BearerError> {
    prop_oneof![
        Just(BearerError::None),
        Just(BearerError::InvalidRequest),
        Just(BearerError::InvalidToken("the access token expired")),
        proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 1..4)
            .prop_map(|s| BearerError::InsufficientScope(s.join(" "))),
        (
            proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 0..3),
            proptest::option::of(1..=u64::MAX),
        )
            .prop_map(
                |(acr, max_age)| BearerError::InsufficientUserAuthentication {
                    description: "a more recent authentication is required",
                    acr_values: acr.join(" "),
                    max_age,
                }
            ),
    ]
}

/// The metadata URL a `[server] resource` gives (RFC 9728 §3.1).
fn metadata() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        "https://[a-z0-9.-]{1,20}(:[0-9]{1,5})?/\\.well-known/oauth-protected-resource(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{1,8}){0,2}",
    )
}

/// What a step-up challenge must say besides `realm`.
fn step_up_params(acr_values: &str, max_age: Option<u64>) -> Vec<(String, String)> {
    let mut want = vec![(
        "error".to_owned(),
        "insufficient_user_authentication".to_owned(),
    )];
    if !acr_values.is_empty() {
        want.push(("acr_values".to_owned(), acr_values.to_owned()));
    }
    if let Some(seconds) = max_age {
        want.push(("max_age".to_owned(), seconds.to_string()));
    }
    want
}

proptest! {
    #[test]
    fn every_challenge_parses_and_round_trips(
        realm in "[^\\p{Cc}]{1,40}",
        schemes in schemes(),
        error in error(),
        metadata in metadata(),
    ) {
        for challenge in challenges(&realm, metadata.as_deref(), schemes, &error) {
            prop_assert!(http::HeaderValue::from_str(&challenge).is_ok(), "{challenge:?}");
            let (scheme, params) = parse(&challenge).map_err(TestCaseError::fail)?;
            prop_assert!(scheme == "Bearer" || scheme == "Basic", "{scheme}");
            prop_assert_eq!(&params[0], &("realm".to_owned(), realm.clone()));
            if scheme != "Bearer" {
                continue;
            }
            if let Some(url) = &metadata {
                prop_assert_eq!(&params[1], &("resource_metadata".to_owned(), url.clone()));
            } else {
                prop_assert!(params.iter().all(|(name, _)| name != "resource_metadata"));
            }
            if let BearerError::InsufficientScope(scope) = &error {
                prop_assert!(params.contains(&("scope".to_owned(), scope.clone())));
            }
            if let BearerError::InsufficientUserAuthentication { acr_values, max_age, .. } = &error {
                for param in step_up_params(acr_values, *max_age) {
                    prop_assert!(params.contains(&param), "{param:?} in {challenge}");
                }
                prop_assert_eq!(params.iter().any(|(n, _)| n == "acr_values"), !acr_values.is_empty());
                prop_assert_eq!(params.iter().any(|(n, _)| n == "max_age"), max_age.is_some());
            }
        }
    }
}
