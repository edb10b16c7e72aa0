//! The OpenID Provider harness (`common::op`) against the real `oidc-provider`, without
//! warden: discovery, the code flow with PKCE, refresh and its revocation, introspection,
//! back-channel and RP-initiated logout, faults, and outages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use common::op::{Fault, Op, OpAgent, Pkce, jwt_header, jwt_payload, query_param};

const CLIENT: (&str, &str) = ("warden", "warden-secret");
/// Never fetched: the agent stops at the redirect to it.
const REDIRECT: &str = "http://127.0.0.1:9/.warden/oidc/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:9/signed-out";
/// A resource whose access tokens are opaque, so they can be introspected.
const API: &str = "http://127.0.0.1:9/api/";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn client(backchannel: Option<&str>) -> Value {
    let mut c = json!({
        "client_id": CLIENT.0, "client_secret": CLIENT.1,
        "redirect_uris": [REDIRECT], "post_logout_redirect_uris": [AFTER_LOGOUT],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    });
    if let Some(uri) = backchannel {
        c["backchannel_logout_uri"] = uri.into();
        c["backchannel_logout_session_required"] = true.into();
    }
    c
}

fn config(backchannel: Option<&str>) -> Value {
    json!({
        "clients": [client(backchannel)],
        "accounts": { "alice": { "email": "alice@example.test", "groups": ["admin", "dev"] } },
        "resources": { API: { "scope": "api:read api:write", "format": "opaque" } },
    })
}

/// Signs alice in and redeems the code: (the callback URL, the token response).
fn code_flow(op: &Op, agent: &mut OpAgent, acr: &str, extra: &[(&str, &str)]) -> (String, Value) {
    let pkce = Pkce::new();
    let mut params = vec![
        ("scope", "openid email groups"),
        ("state", "st-123"),
        ("nonce", "no-456"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("acr_values", "pwd mfa"),
    ];
    params.extend_from_slice(extra);
    let callback = agent.sign_in(
        &op.authorize_url(CLIENT.0, REDIRECT, &params),
        "alice",
        "x",
        Some(acr),
    );
    assert!(callback.starts_with(&format!("{REDIRECT}?")), "{callback}");
    let code = query_param(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    let tokens = op.token_for_code(CLIENT, &code, REDIRECT, &pkce.verifier);
    (callback, tokens)
}

#[test]
fn discovery_names_what_warden_needs() {
    let op = Op::start(config(None));
    eprintln!("oidc-provider started in {:?}", op.started_in());
    let d = op.discovery();
    assert_eq!(d["issuer"], op.issuer());
    assert_eq!(op.issuer(), format!("http://127.0.0.1:{}", op.port()));
    for (key, path) in [
        ("authorization_endpoint", "/auth"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/session/end"),
        ("introspection_endpoint", "/token/introspection"),
        ("revocation_endpoint", "/token/revocation"),
    ] {
        assert_eq!(d[key], op.url(path), "{key}");
    }
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["acr_values_supported"], json!(["pwd", "mfa"]));
    assert_eq!(op.count("discovery"), 2, "{}", op.stats());
    op.reset_stats();
    assert_eq!(op.stats(), json!({}));
}

#[test]
fn code_flow_with_pkce_then_refresh_until_grants_are_revoked() {
    let op = Op::start(config(None));
    let mut agent = OpAgent::new();
    let (callback, tokens) = code_flow(&op, &mut agent, "mfa", &[]);
    assert_eq!(query_param(&callback, "state").as_deref(), Some("st-123"));
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(op.issuer()));

    let id = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        jwt_header(tokens["id_token"].as_str().unwrap())["alg"],
        "RS256"
    );
    assert_eq!(
        (id["iss"].as_str(), id["aud"].as_str()),
        (Some(op.issuer()), Some(CLIENT.0))
    );
    assert_eq!(
        (id["sub"].as_str(), id["nonce"].as_str()),
        (Some("alice"), Some("no-456"))
    );
    assert_eq!(id["groups"], json!(["admin", "dev"]), "{id}");
    assert_eq!(id["email"], "alice@example.test");
    assert_eq!(id["acr"], "mfa", "{id}");
    // `sid` comes only for clients with backchannel_logout_session_required.
    assert!(id.get("sid").is_none(), "{id}");

    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let refreshed = op.refresh(CLIENT, &refresh_token);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let refreshed = refreshed.json();
    assert_eq!(
        jwt_payload(refreshed["id_token"].as_str().unwrap())["acr"],
        "mfa"
    );
    let refresh_token = refreshed["refresh_token"]
        .as_str()
        .unwrap_or(&refresh_token)
        .to_owned();

    assert_eq!(op.revoke_grants("alice"), 1);
    let rejected = op.refresh(CLIENT, &refresh_token);
    assert_eq!(rejected.status, 400, "{rejected:?}");
    assert_eq!(rejected.json()["error"], "invalid_grant");
}

#[test]
fn step_up_signs_in_again_with_a_stronger_acr() {
    let op = Op::start(config(None));
    let mut agent = OpAgent::new();
    let (_, weak) = code_flow(&op, &mut agent, "pwd", &[]);
    assert_eq!(
        jwt_payload(weak["id_token"].as_str().unwrap())["acr"],
        "pwd"
    );
    // The provider session is reused: without prompt=login, no form and the same acr.
    let (_, same) = code_flow(&op, &mut agent, "mfa", &[]);
    assert_eq!(
        jwt_payload(same["id_token"].as_str().unwrap())["acr"],
        "pwd"
    );
    let (_, strong) = code_flow(&op, &mut agent, "mfa", &[("prompt", "login")]);
    let id = jwt_payload(strong["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "mfa", "{id}");
    assert!(
        id["auth_time"].is_u64(),
        "prompt=login asks for auth_time: {id}"
    );
}

#[test]
fn opaque_client_credentials_tokens_introspect() {
    let op = Op::start(config(None));
    op.reset_stats();
    let token = op.client_credentials(CLIENT, "api:read", API);
    assert!(!token.contains('.'), "not opaque: {token}");
    let active = op.introspect(CLIENT, &token);
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(
        (active["client_id"].as_str(), active["aud"].as_str()),
        (Some(CLIENT.0), Some(API))
    );
    assert_eq!(active["scope"], "api:read");
    assert_eq!(active["iss"], op.issuer());
    assert_eq!(
        op.introspect(CLIENT, "not-a-token"),
        json!({ "active": false })
    );
    let wrong = op.post_form(
        "/token/introspection",
        Some((CLIENT.0, "wrong")),
        &[("token", &token)],
    );
    assert_eq!(wrong.status, 401, "{wrong:?}");
    let stats = op.stats();
    assert_eq!(
        (stats["token"].as_u64(), stats["introspection"].as_u64()),
        (Some(1), Some(3)),
        "{stats}"
    );
}

/// A one-shot HTTP listener: the URL, and a channel with each request's (head, body).
fn listener() -> (String, mpsc::Receiver<(String, String)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.warden/oidc/backchannel",
        l.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut line) = (String::new(), String::new());
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                head.push_str(&line);
                line.clear();
            }
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            });
            let mut body = vec![0; length.unwrap_or(0)];
            let _ = reader.read_exact(&mut body);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send((head, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

/// The logout token of the next delivery, checked against the session's ID token.
fn logout_token(rx: &mpsc::Receiver<(String, String)>, op: &Op, id: &Value) -> Value {
    let (head, body) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a back-channel logout");
    assert!(
        head.starts_with("POST /.warden/oidc/backchannel "),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("application/x-www-form-urlencoded"),
        "{head}"
    );
    let jwt = query_param(&format!("?{body}"), "logout_token").unwrap_or_else(|| panic!("{body}"));
    assert_eq!(jwt_header(&jwt)["typ"], "logout+jwt");
    let claims = jwt_payload(&jwt);
    assert_eq!(
        claims["events"],
        json!({ BACKCHANNEL_EVENT: {} }),
        "{claims}"
    );
    assert_eq!(
        (claims["iss"].as_str(), claims["aud"].as_str()),
        (Some(op.issuer()), Some(CLIENT.0))
    );
    assert_eq!(
        (&claims["sub"], &claims["sid"]),
        (&id["sub"], &id["sid"]),
        "{claims}"
    );
    assert!(claims["jti"].is_string() && claims["iat"].is_u64() && claims["exp"].is_u64());
    assert!(claims.get("nonce").is_none(), "{claims}");
    claims
}

#[test]
fn backchannel_logout_reaches_the_client() {
    let (url, rx) = listener();
    let op = Op::start(config(Some(&url)));
    let (_, tokens) = code_flow(&op, &mut OpAgent::new(), "pwd", &[]);
    let id = jwt_payload(tokens["id_token"].as_str().unwrap());
    let sent = op.backchannel_logout("alice");
    assert_eq!(sent["sessions"], 1, "{sent}");
    assert_eq!(
        sent["sent"],
        json!([{ "client_id": CLIENT.0, "sid": id["sid"], "ok": true }])
    );
    logout_token(&rx, &op, &id);
    let rejected = op.refresh(CLIENT, tokens["refresh_token"].as_str().unwrap());
    assert_eq!(rejected.status, 400, "the session ended: {rejected:?}");
    assert_eq!(op.backchannel_logout("alice")["sessions"], 0);
}

#[test]
fn rp_initiated_logout_redirects_back_and_notifies() {
    let (url, rx) = listener();
    let op = Op::start(config(Some(&url)));
    let mut agent = OpAgent::new();
    let (_, tokens) = code_flow(&op, &mut agent, "pwd", &[]);
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = format!(
        "{}/session/end?{}",
        op.issuer(),
        common::form_encode(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "bye-1"),
        ])
    );
    let back = agent.end_session(&logout, true);
    assert_eq!(back, format!("{AFTER_LOGOUT}?state=bye-1"));
    logout_token(&rx, &op, &jwt_payload(id_token));
    // Signed out at the provider: the next authorization asks for the login again.
    let (callback, _) = code_flow(&op, &mut agent, "mfa", &[]);
    assert!(callback.contains("code="), "{callback}");
    assert_eq!(op.count("end_session_confirm"), 1, "{}", op.stats());
}

#[test]
fn faults_and_dynamic_clients() {
    let mut op = Op::start(config(None));
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "api:read"),
        ("resource", API),
    ];
    op.fault("/token", Fault::Status500);
    assert_eq!(op.post_form("/token", Some(CLIENT), &form).status, 500);
    op.fault("/token", Fault::Hang);
    let mut stream = TcpStream::connect(op.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    stream
        .write_all(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        stream.read(&mut buf).is_err(),
        "a hanging /token answers nothing"
    );
    op.fault("/token", Fault::Off);
    assert_eq!(op.post_form("/token", Some(CLIENT), &form).status, 200);

    let mut late = client(None);
    late["client_id"] = "late".into();
    op.add_client(late);
    assert!(
        !op.client_credentials(("late", CLIENT.1), "api:write", API)
            .is_empty()
    );
    op.restart();
    assert!(
        !op.client_credentials(("late", CLIENT.1), "api:write", API)
            .is_empty()
    );
}

#[test]
fn stop_refuses_connections_and_restart_comes_back_on_the_same_port() {
    let mut op = Op::start(config(None));
    let port = op.port();
    op.stop();
    let refused = TcpStream::connect(op.addr()).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    op.restart();
    eprintln!("oidc-provider restarted in {:?}", op.started_in());
    assert_eq!(op.port(), port);
    assert_eq!(op.discovery()["issuer"], op.issuer());
}
