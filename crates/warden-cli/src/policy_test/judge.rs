//! One case through the real engine and renderer, as the server would judge it.

use http::header::{ACCEPT, AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Authn, Credential, Decision, Engine, Flavour, Identity, Outcome, Pending,
    RenderContext, RequestFacts, Step, render,
};

use super::spec::Case;

/// What warden answered to one case.
pub struct Answer {
    pub facts: RequestFacts,
    pub decision: Decision,
    pub outcome: Outcome,
}

/// The answer to a case; `Err` when the case cannot be judged as written.
pub fn answer(engine: &Engine, case: &Case, now: u64) -> Result<Answer, String> {
    let config = engine.config();
    let mut headers = case.headers.clone();
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    }
    let mut facts = read_facts(engine, case, &headers);
    if let Some(identity) = &case.identity
        && presents_nothing(&facts)
    {
        let (name, value) = placeholder(identity.method, config.api_key_header.as_ref());
        headers.append(name, value);
        facts = read_facts(engine, case, &headers);
    }
    let decision = match engine.begin(&facts, now) {
        Step::Decided(d) => d,
        Step::Authenticate(pending) => {
            let Some(identity) = &case.identity else {
                return Err("the rule needs an identity: give one".to_owned());
            };
            let authn = authenticate(&pending, identity);
            engine.finish(pending, authn, &facts, now)
        }
    };
    let ctx = RenderContext {
        config,
        facts: &facts,
        flavour: Flavour::Generic,
        decision_id: "test",
    };
    let outcome = render(&decision, &ctx);
    Ok(Answer {
        facts,
        decision,
        outcome,
    })
}

fn read_facts(engine: &Engine, case: &Case, headers: &HeaderMap) -> RequestFacts {
    let parts = RequestParts {
        method: &case.method,
        uri: &case.uri,
        headers,
        peer: case.client,
        tls: false,
    };
    facts::read(parts, engine.config(), ForwardSource::Direct)
}

fn presents_nothing(facts: &RequestFacts) -> bool {
    let c = &facts.credentials;
    c.authorization.is_empty() && c.api_key.is_empty() && c.session.is_none() && !c.query_token
}

/// A credential of the identity's kind, so the engine routes it as it would the real one.
fn placeholder(method: AuthMethod, api_key: Option<&HeaderName>) -> (HeaderName, HeaderValue) {
    let value = match method {
        AuthMethod::Jwt => "Bearer x.y.z",
        AuthMethod::Introspection => "Bearer opaque-placeholder",
        AuthMethod::Basic => "Basic dXNlcjpwYXNzd29yZA==",
        AuthMethod::ApiKey => match api_key {
            Some(name) => return (name.clone(), HeaderValue::from_static("wdn_x")),
            None => "Bearer wdn_x",
        },
        AuthMethod::Session | AuthMethod::Oidc => {
            return (
                COOKIE,
                HeaderValue::from_static("warden_session=placeholder"),
            );
        }
    };
    (AUTHORIZATION, HeaderValue::from_static(value))
}

/// The identity, when the credential reached the authenticator of its kind; otherwise that
/// authenticator refuses it, as a real one refuses a credential it did not issue.
fn authenticate(pending: &Pending, identity: &Identity) -> Authn {
    use warden_core::{Rejection, TokenProblem};
    let refused = match (&pending.credential, identity.method) {
        (Credential::Jwt(_), AuthMethod::Jwt)
        | (Credential::ApiKey(_), AuthMethod::ApiKey)
        | (Credential::Introspection(_), AuthMethod::Introspection)
        | (Credential::Basic { .. }, AuthMethod::Basic)
        | (Credential::Session(_), AuthMethod::Session | AuthMethod::Oidc) => {
            return Authn::Authenticated(identity.clone());
        }
        (Credential::Jwt(_), _) => Rejection::InvalidToken(TokenProblem::Malformed),
        (Credential::ApiKey(_), _) => Rejection::InvalidToken(TokenProblem::UnknownApiKey),
        (Credential::Introspection(_), _) => Rejection::InvalidToken(TokenProblem::Inactive),
        (Credential::Basic { .. }, _) => Rejection::BadPassword,
        (Credential::Session(_), _) => Rejection::SessionEnded,
    };
    Authn::Rejected(refused)
}

/// All values of a response header joined with `, ` (empty when absent).
pub fn joined(outcome: &Outcome, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = (outcome.headers.get_all(name).iter())
        .map(|v| v.to_str().unwrap_or("<binary>"))
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The challenges, joined as one field value (empty when there are none).
pub fn challenge(outcome: &Outcome) -> String {
    joined(outcome, &WWW_AUTHENTICATE).unwrap_or_default()
}
