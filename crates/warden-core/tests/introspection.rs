#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `[authn.introspection]`: the section's defaults and every mistake with its key and line;
//! rules that take introspected bearer tokens; which authenticator a bearer value goes to.

use std::path::Path;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, Uri};
use warden_core::config::SecretSource;
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    Authn, Config, Credential, Decision, Deny, Engine, Flavour, Outcome, Rejection, RenderContext,
    Step, TokenProblem, Verdict, render,
};

const HEAD: &str = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n";
const SECTION: &str = "[authn.introspection]\nendpoint = \"https://as.example/introspect\"\n\
                       client_id = \"warden\"\nclient_secret_file = \"secret.txt\"\n";
const RULE: &str = "[[rule]]\nname = \"api\"\npath = \"/api/**\"\nrequire = \"authenticated\"\n";
const JWT: &str = "[authn.jwt]\njwks_file = \"k.json\"\nissuer = \"i\"\naudience = \"a\"\n";

fn parse(tail: &str) -> Config {
    Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap()
}

/// (key, line, message) of every issue.
fn issues(tail: &str) -> Vec<(String, usize, String)> {
    let errors = Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap_err();
    (errors.issues.into_iter())
        .map(|i| (i.key, i.line, i.message))
        .collect()
}

/// The one issue of a section with `from` replaced by `to`.
fn one_issue(from: &str, to: &str) -> (String, usize, String) {
    assert!(SECTION.contains(from), "{from}");
    let found = issues(&SECTION.replacen(from, to, 1));
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn the_section_loads_with_safe_defaults() {
    let config = parse(&format!("{SECTION}{RULE}"));
    let i = config.introspection.as_ref().unwrap();
    assert_eq!(i.endpoint, "https://as.example/introspect");
    assert_eq!(i.client_id, "warden");
    let secret = SecretSource::File("/etc/warden/secret.txt".into());
    assert_eq!(i.client_secret, secret);
    assert_eq!(i.cache, Duration::from_secs(60));
    assert_eq!(i.timeout, Duration::from_millis(2000));
    assert_eq!(i.policy.scopes_claim, "scope");
    assert_eq!(
        (i.policy.roles_claim.as_ref(), i.policy.issuer.as_ref()),
        (None, None)
    );
    assert!(i.policy.audience.is_empty());
    let schemes = config.rules.rules()[0].schemes;
    assert!(schemes.introspection && schemes.bearer() && !schemes.jwt);
}

#[test]
fn every_setting_is_read() {
    let text = "[authn.introspection]\nendpoint = \"http://127.0.0.1:9/i?tenant=a\"\n\
                dangerous_allow_http = true\nclient_id = \"warden\"\nclient_secret_env = \"AS_SECRET\"\n\
                roles_claim = \"realm.roles\"\nscopes_claim = \"scp\"\naudience = [\"api\", \"web\"]\n\
                issuer = \"https://as.example\"\ncache_seconds = 0\ntimeout_ms = 250\n";
    let config = parse(&format!("{text}{RULE}"));
    let i = config.introspection.unwrap();
    assert_eq!(i.endpoint, "http://127.0.0.1:9/i?tenant=a");
    assert_eq!(i.client_secret, SecretSource::Env("AS_SECRET".into()));
    assert_eq!(i.policy.roles_claim.as_deref(), Some("realm.roles"));
    assert_eq!(i.policy.scopes_claim, "scp");
    assert_eq!(i.policy.audience, ["api", "web"]);
    assert_eq!(i.policy.issuer.as_deref(), Some("https://as.example"));
    assert_eq!(
        (i.cache, i.timeout),
        (Duration::ZERO, Duration::from_millis(250))
    );
    let one = parse(&format!(
        "{}{RULE}",
        SECTION.replace("client_id", "audience = \"api\"\nclient_id")
    ));
    assert_eq!(one.introspection.unwrap().policy.audience, ["api"]);
}

#[test]
fn a_missing_endpoint_or_client_id_is_named_at_the_section() {
    let (key, line, message) = one_issue("endpoint = \"https://as.example/introspect\"\n", "");
    assert_eq!(
        (key.as_str(), line, message.as_str()),
        ("authn.introspection.endpoint", 5, "is required")
    );
    let (key, line, _) = one_issue("client_id = \"warden\"\n", "");
    assert_eq!((key.as_str(), line), ("authn.introspection.client_id", 5));
}

#[test]
fn exactly_one_secret_source() {
    let why = "set exactly one of `client_secret_file` and `client_secret_env`";
    let both = one_issue(
        "client_secret_file",
        "client_secret_env = \"S\"\nclient_secret_file",
    );
    assert_eq!(
        (both.0.as_str(), both.1, both.2.as_str()),
        ("authn.introspection", 5, why)
    );
    let none = one_issue("client_secret_file = \"secret.txt\"\n", "");
    assert_eq!(
        (none.0.as_str(), none.2.as_str()),
        ("authn.introspection", why)
    );
    let empty = one_issue(
        "client_secret_file = \"secret.txt\"",
        "client_secret_env = \"\"",
    );
    assert_eq!(empty.2, why);
}

#[test]
fn plain_http_needs_the_dangerous_switch_and_urls_are_plain() {
    let (key, line, message) = one_issue("https://as.example", "http://as.example");
    assert_eq!((key.as_str(), line), ("authn.introspection.endpoint", 6));
    assert!(message.contains("dangerous_allow_http = true"), "{message}");
    for bad in [
        "https://user:pw@as.example/i",
        "https://as.example/i#x",
        "https:///i",
        "as.example/i",
    ] {
        let (key, _, message) = one_issue("https://as.example/introspect", bad);
        assert_eq!(key, "authn.introspection.endpoint", "{bad}");
        assert!(!message.is_empty(), "{bad}");
    }
}

#[test]
fn cache_and_timeout_bounds() {
    for bad in ["-1", "3601"] {
        let (key, line, message) =
            one_issue("client_id", &format!("cache_seconds = {bad}\nclient_id"));
        assert_eq!(
            (key.as_str(), line),
            ("authn.introspection.cache_seconds", 7),
            "{bad}"
        );
        assert_eq!(message, "must be between 0 and 3600 seconds");
    }
    let (key, _, message) = one_issue("client_id", "timeout_ms = 5\nclient_id");
    assert_eq!(key, "authn.introspection.timeout_ms");
    assert_eq!(message, "must be between 10 and 60000 milliseconds");
}

#[test]
fn empty_claims_and_audiences_and_unknown_keys() {
    let (key, _, _) = one_issue("client_id", "scopes_claim = \"\"\nclient_id");
    assert_eq!(key, "authn.introspection.scopes_claim");
    let (key, _, _) = one_issue("client_id", "audience = []\nclient_id");
    assert_eq!(key, "authn.introspection.audience");
    let (key, line, message) = one_issue("client_id", "cache_ttl = 5\nclient_id");
    assert_eq!((key.as_str(), line), ("authn.introspection.cache_ttl", 7));
    assert!(message.contains("unknown field `cache_ttl`"), "{message}");
}

#[test]
fn rules_name_introspection_and_jwt_apart() {
    let only = |names: &str| format!("{SECTION}{RULE}authn = [{names}]\n");
    let config = parse(&only("\"introspection\""));
    let schemes = config.rules.rules()[0].schemes;
    assert!(schemes.introspection && !schemes.jwt && !schemes.basic);
    let found = issues(&only("\"jwt\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "rule[0].authn");
    assert!(
        found[0]
            .2
            .contains("tokens checked by introspection are `introspection`"),
        "{found:?}"
    );
    let found = issues(&format!("{JWT}{RULE}authn = [\"introspection\"]\n"));
    assert_eq!(
        found[0].2,
        "`introspection` is not configured under `[authn]`"
    );
}

fn begin(config: &str, authorization: &'static str) -> (Engine, warden_core::RequestFacts, Step) {
    let engine = Engine::new(parse(config));
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static(authorization));
    let (method, uri) = (Method::GET, "/api/x".parse::<Uri>().unwrap());
    let parts = RequestParts {
        method: &method,
        uri: &uri,
        headers: &headers,
        peer: "192.0.2.1".parse().unwrap(),
        tls: false,
    };
    let facts = facts::read(parts, engine.config(), ForwardSource::Forwarded);
    let step = engine.begin(&facts, 0);
    (engine, facts, step)
}

fn routed(config: &str, authorization: &'static str) -> Credential {
    match begin(config, authorization).2 {
        Step::Authenticate(pending) => pending.credential,
        Step::Decided(d) => panic!("{authorization}: decided {:?}", d.verdict),
    }
}

#[test]
fn bearer_values_go_to_jwt_when_shaped_so_and_configured_else_to_introspection() {
    const JWS: &str = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
    const OPAQUE: &str = "Bearer 0wDu3CDWLv8WSFBZSuZl9HGEOh8dRuFbS28Wv0upjlO";
    let alone = format!("{SECTION}{RULE}");
    let with_jwt = format!("{JWT}{SECTION}{RULE}");
    let with_keys = format!("{JWT}[authn.api_key]\n{SECTION}{RULE}");
    let jws = || Credential::Jwt(JWS[7..].to_owned());
    let opaque = || Credential::Introspection(OPAQUE[7..].to_owned());
    assert_eq!(routed(&alone, OPAQUE), opaque());
    assert_eq!(
        routed(&alone, JWS),
        Credential::Introspection(JWS[7..].to_owned())
    );
    assert_eq!(routed(&with_jwt, JWS), jws());
    assert_eq!(routed(&with_jwt, OPAQUE), opaque());
    assert_eq!(routed(&with_keys, OPAQUE), opaque());
    assert_eq!(
        routed(&with_keys, "Bearer wdn_abc"),
        Credential::ApiKey("wdn_abc".into())
    );
    // Only introspection on the rule: JWT-shaped values are the authorization server's too.
    let rule_only = format!("{with_jwt}authn = [\"introspection\"]\n");
    assert_eq!(
        routed(&rule_only, JWS),
        Credential::Introspection(JWS[7..].to_owned())
    );
}

#[test]
fn a_wdn_key_is_never_sent_to_the_authorization_server() {
    let (_, _, step) = begin(&format!("{SECTION}{RULE}"), "Bearer wdn_secret");
    let Step::Decided(decision) = step else {
        panic!("a wdn_ value was routed: {step:?}");
    };
    let problem = TokenProblem::UnknownApiKey;
    let want = Verdict::Deny(Deny::Rejected(Rejection::InvalidToken(problem)));
    assert_eq!(decision.verdict, want);
}

fn rendered(engine: &Engine, facts: &warden_core::RequestFacts, decision: &Decision) -> Outcome {
    let ctx = RenderContext {
        config: engine.config(),
        facts,
        flavour: Flavour::Generic,
        decision_id: "t",
    };
    render(decision, &ctx)
}

#[test]
fn header_syntax_is_judged_first_and_inactive_tokens_render_invalid_token() {
    let config = format!("{SECTION}{RULE}");
    let (engine, facts, step) = begin(&config, "Bearer a b");
    let Step::Decided(decision) = step else {
        panic!("{step:?}")
    };
    assert_eq!(rendered(&engine, &facts, &decision).status, 400);
    let (engine, facts, step) = begin(&config, "Bearer opaque-token");
    let Step::Authenticate(pending) = step else {
        panic!("{step:?}")
    };
    let inactive = Authn::Rejected(Rejection::InvalidToken(TokenProblem::Inactive));
    let outcome = rendered(
        &engine,
        &facts,
        &engine.finish(pending, inactive, &facts, 0),
    );
    assert_eq!(outcome.status, 401);
    let challenges: Vec<_> = outcome.headers.get_all("www-authenticate").iter().collect();
    let want = r#"Bearer realm="r", error="invalid_token", error_description="the access token is invalid""#;
    assert_eq!(challenges, [want]);
}
