//! The TLS listener: HTTP/2 and HTTP/1.1 by ALPN with a real client (curl), the same answers as
//! over plain HTTP, `Secure` browser facts, and a clear refusal to start with a bad key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::*;

fn tls_config() -> String {
    let section = format!(
        "[server.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        data_file("tls-cert.pem").display(),
        data_file("tls-key.pem").display()
    );
    replace(
        &standard_config(),
        "[authn.jwt]",
        &format!("{section}[authn.jwt]"),
    )
}

/// `curl` over TLS against the test certificate: (HTTP version, status, header lines).
fn curl(
    warden: &Warden,
    version_flag: &str,
    path: &str,
    headers: &[&str],
) -> (String, u16, String) {
    let url = format!("https://localhost:{}{path}", warden.addr.port());
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "-D", "-", version_flag])
        .args(["--cacert", data_file("tls-cert.pem").to_str().unwrap()])
        .args([
            "--resolve",
            &format!("localhost:{}:127.0.0.1", warden.addr.port()),
        ])
        .args(["-w", "%{http_version} %{http_code}"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().expect("curl runs");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, tail) = text.rsplit_once("\r\n\r\n").unwrap_or(("", &text));
    let (version, status) = tail.trim().split_once(' ').unwrap();
    (
        version.to_owned(),
        status.parse().unwrap(),
        head.to_ascii_lowercase(),
    )
}

#[test]
fn https_speaks_http2_and_http11_with_the_same_answers() {
    let warden = Env::new(&tls_config()).serve();
    let (version, status, head) = curl(&warden, "--http2", "/private/x", &[]);
    assert_eq!((version.as_str(), status), ("2", 401), "{head}");
    assert!(
        head.contains(&format!(
            "www-authenticate: {}",
            BEARER.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(
        head.contains(&format!("www-authenticate: {}", BASIC.to_ascii_lowercase())),
        "{head}"
    );
    assert!(head.contains("cache-control: no-store"), "{head}");
    let (version, status, head) = curl(&warden, "--http1.1", "/private/x", &[]);
    assert_eq!((version.as_str(), status), ("1.1", 401), "{head}");
    let auth = format!(
        "Authorization: {}",
        bearer(&tokens::token("alice", &["admin"], ""))
    );
    let (_, status, head) = curl(&warden, "--http2", "/admin/x", &[&auth]);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("x-auth-subject: alice"), "{head}");
}

#[test]
fn https_requests_are_secure_for_the_browser() {
    let warden = Env::new(&tls_config()).serve();
    let navigate = ["Accept: text/html", "Sec-Fetch-Mode: navigate"];
    let (_, status, head) = curl(&warden, "--http2", "/private/x", &navigate);
    assert_eq!(status, 302, "{head}");
    assert!(
        head.contains("location: /.warden/login?rd=%2fprivate%2fx"),
        "{head}"
    );
    // The sign-in form is served over TLS; its CSRF cookie takes the `__Host-` form.
    let (_, status, head) = curl(
        &warden,
        "--http2",
        "/.warden/login?rd=%2Fprivate%2Fx",
        &navigate,
    );
    assert_eq!(status, 200, "{head}");
    let cookies: Vec<&str> = head
        .lines()
        .filter(|l| l.starts_with("set-cookie:"))
        .collect();
    assert!(!cookies.is_empty(), "{head}");
    for c in cookies {
        assert!(c.contains("; secure"), "{c}");
    }
}

#[test]
fn a_bad_key_stops_the_start_with_a_clear_error() {
    let config = replace(
        &tls_config(),
        &data_file("tls-key.pem").display().to_string(),
        &data_file("jwks.json").display().to_string(),
    );
    let env = Env::new(&config);
    let out = run_warden(&env.config, &["serve"], None);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("cannot read a private key from"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("jwks.json"), "{}", out.stderr);
}
