//! A browser-less user agent for the provider's devInteractions pages: redirects off, and a
//! small cookie jar (the workspace's reqwest has no `cookies` feature and no blocking
//! client; these tests are synchronous). Like a browser, cookies are scoped by host and
//! path, not by port.

use std::net::{SocketAddr, ToSocketAddrs as _};

use crate::common::form_encode;
use crate::common::http::{Response, send, send_with_body};

/// How many requests one sign-in or logout may take.
const MAX_HOPS: usize = 12;

#[derive(Debug, Clone)]
struct Cookie {
    host: String,
    path: String,
    name: String,
    value: String,
}

/// A user agent with its own cookie jar.
#[derive(Debug, Default)]
pub struct OpAgent {
    jar: Vec<Cookie>,
}

impl OpAgent {
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET url` with the jar's cookies; stores what the answer sets.
    pub fn get(&mut self, url: &str) -> Response {
        let (addr, authority, target) = split(url);
        let cookie = self.cookie_header(&authority, &target);
        let mut headers = vec![("Host", authority.as_str()), ("Accept", "text/html")];
        headers.extend(cookie.as_deref().map(|c| ("Cookie", c)));
        let r = send(addr, "GET", &target, &headers);
        self.store(&authority, &r);
        r
    }

    /// `POST url` with a form body and the jar's cookies; stores what the answer sets.
    pub fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Response {
        let (addr, authority, target) = split(url);
        let cookie = self.cookie_header(&authority, &target);
        let mut headers = vec![
            ("Host", authority.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        headers.extend(cookie.as_deref().map(|c| ("Cookie", c)));
        let r = send_with_body(
            addr,
            "POST",
            &target,
            &headers,
            form_encode(form).as_bytes(),
        );
        self.store(&authority, &r);
        r
    }

    /// Follows the provider's redirects from `authorize_url`, fills in the login form
    /// (`login`, `password`, and `acr` when given) and the consent form as they come, and
    /// returns the first redirect that leaves the provider's origin: the client's
    /// `redirect_uri?code=…&state=…&iss=…` (or `?error=…`), not fetched. With a provider
    /// session already in the jar no form may come (send `prompt=login` to force one).
    pub fn sign_in(
        &mut self,
        authorize_url: &str,
        login: &str,
        password: &str,
        acr: Option<&str>,
    ) -> String {
        let home = origin(authorize_url);
        let mut url = authorize_url.to_owned();
        let mut r = self.get(&url);
        for _ in 0..MAX_HOPS {
            if let Some(next) = redirect(&url, &r) {
                if origin(&next) != home {
                    return next;
                }
                r = self.get(&next);
                url = next;
                continue;
            }
            assert_eq!(r.status, 200, "unexpected answer to GET {url}: {r:?}");
            let action = absolute(&url, &attribute(form_tag(&url, &r), "action"));
            let mut form = vec![("prompt", hidden(&r.body, "prompt").unwrap_or_default())];
            match form[0].1.as_str() {
                "login" => {
                    form.extend([
                        ("login", login.to_owned()),
                        ("password", password.to_owned()),
                    ]);
                    form.extend(acr.map(|a| ("acr", a.to_owned())));
                }
                "consent" => {}
                other => panic!("unknown prompt `{other}` at {url}: {}", r.body),
            }
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            r = self.post(&action, &fields);
            url = action;
        }
        panic!("sign-in took more than {MAX_HOPS} requests; last at {url}: {r:?}")
    }

    /// Opens an RP-initiated logout URL (`end_session_endpoint?id_token_hint=…&…`),
    /// confirms the provider's page (`logout=yes`, ending the whole provider session, when
    /// `everywhere`; otherwise only this client's part of it) and returns where the provider
    /// sends the browser: the `post_logout_redirect_uri` (with `state`) or its own success
    /// page, not fetched.
    pub fn end_session(&mut self, url: &str, everywhere: bool) -> String {
        let r = self.get(url);
        if let Some(next) = redirect(url, &r) {
            return next;
        }
        assert_eq!(r.status, 200, "unexpected answer to GET {url}: {r:?}");
        let action = absolute(url, &attribute(form_tag(url, &r), "action"));
        let mut form = vec![("xsrf", hidden(&r.body, "xsrf").unwrap_or_default())];
        let auto_logout = hidden(&r.body, "logout");
        if everywhere || auto_logout.is_some() {
            form.push(("logout", auto_logout.unwrap_or_else(|| "yes".to_owned())));
        }
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = self.post(&action, &fields);
        redirect(&action, &r).unwrap_or_else(|| panic!("logout confirmation: {r:?}"))
    }

    /// The names of the cookies the jar holds for `host` (`127.0.0.1`).
    pub fn cookie_names(&self, host: &str) -> Vec<String> {
        let held = self.jar.iter().filter(|c| c.host == host);
        held.map(|c| c.name.clone()).collect()
    }

    fn cookie_header(&self, authority: &str, target: &str) -> Option<String> {
        let host = host_of(authority);
        let path = target.split(['?', '#']).next().unwrap_or("/");
        let sent: Vec<String> = self
            .jar
            .iter()
            .filter(|c| c.host == host && path_matches(&c.path, path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!sent.is_empty()).then(|| sent.join("; "))
    }

    fn store(&mut self, authority: &str, r: &Response) {
        let host = host_of(authority).to_owned();
        for line in r.all("set-cookie") {
            let mut parts = line.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let attrs: Vec<&str> = parts.collect();
            let path = attrs.iter().find_map(|a| {
                let (key, value) = a.split_once('=')?;
                key.eq_ignore_ascii_case("path").then_some(value)
            });
            let gone = value.is_empty()
                || attrs
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("max-age=0") || a.contains("1970"));
            let cookie = Cookie {
                host: host.clone(),
                path: path.unwrap_or("/").to_owned(),
                name: name.to_owned(),
                value: value.to_owned(),
            };
            self.jar.retain(|c| {
                (&c.host, &c.path, &c.name) != (&cookie.host, &cookie.path, &cookie.name)
            });
            if !gone {
                self.jar.push(cookie);
            }
        }
    }
}

/// The absolute `Location` of a 3xx answer.
fn redirect(base: &str, r: &Response) -> Option<String> {
    if !(300..400).contains(&r.status) {
        return None;
    }
    let location = r
        .header("location")
        .unwrap_or_else(|| panic!("redirect without Location: {r:?}"));
    Some(absolute(base, location))
}

/// `(address, authority, target)` of an `http://` URL.
fn split(url: &str) -> (SocketAddr, String, String) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http URL: {url}"));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let addr = authority.to_socket_addrs().ok().and_then(|mut a| a.next());
    let addr = addr.unwrap_or_else(|| panic!("cannot resolve {authority}"));
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    (addr, authority.to_owned(), target)
}

fn origin(url: &str) -> String {
    let (_, authority, _) = split(url);
    authority
}

fn host_of(authority: &str) -> &str {
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    assert!(
        location.starts_with('/'),
        "relative Location {location:?} from {base}"
    );
    format!("http://{}{location}", origin(base))
}

fn path_matches(cookie_path: &str, path: &str) -> bool {
    path == cookie_path
        || (path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || path[cookie_path.len()..].starts_with('/')))
}

/// The first `<form …>` tag of a page.
fn form_tag<'a>(url: &str, r: &'a Response) -> &'a str {
    let start = r
        .body
        .find("<form")
        .unwrap_or_else(|| panic!("no form at {url}: {}", r.body));
    let end = r.body[start..]
        .find('>')
        .map_or(r.body.len(), |e| start + e);
    &r.body[start..end]
}

/// The value of the hidden input named `name`.
fn hidden(body: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    body.split("<input")
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
        .find_map(|tag| {
            (tag.contains("type=\"hidden\"") && tag.contains(&needle))
                .then(|| attribute(tag, "value"))
        })
}

/// An attribute's HTML-unescaped value in one tag (empty when absent).
fn attribute(tag: &str, name: &str) -> String {
    let needle = format!(" {name}=\"");
    let Some(start) = tag.find(&needle).map(|s| s + needle.len()) else {
        return String::new();
    };
    let value = tag[start..].split('"').next().unwrap_or("");
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
