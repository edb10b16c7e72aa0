//! Browser sign-in helpers: `Set-Cookie` lines taken apart, the login form's fields, signing
//! in through the form, and lining tests up with the fixed failed-attempt windows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Response, Warden};

/// The session cookie over plain http.
pub const SESSION: &str = "warden_session";
/// The session cookie over https.
pub const SESSION_HOST: &str = "__Host-warden_session";
/// The "just signed in" marker cookie.
pub const MARKER: &str = "warden_signed_in";
/// The double-submit CSRF cookie.
pub const CSRF: &str = "warden_csrf";
/// The login page.
pub const LOGIN: &str = "/.warden/login";
/// The logout page.
pub const LOGOUT: &str = "/.warden/logout";
/// What a failed sign-in says, for every reason.
pub const WRONG: &str = "The user name or password is wrong.";

/// One `Set-Cookie` line, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// `Path=/`, `HttpOnly`, … as written.
    pub attributes: Vec<String>,
}

impl SetCookie {
    fn parse(line: &str) -> Self {
        let mut parts = line.split(';').map(str::trim);
        let first = parts.next().unwrap_or("");
        let (name, value) = first
            .split_once('=')
            .unwrap_or_else(|| panic!("not a cookie: {line:?}"));
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            attributes: parts.filter(|p| !p.is_empty()).map(str::to_owned).collect(),
        }
    }

    /// Asserts the attributes are exactly these (order aside: it carries no meaning).
    pub fn assert_attributes(&self, want: &[&str]) {
        let mut got: Vec<&str> = self.attributes.iter().map(String::as_str).collect();
        let mut want = want.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "attributes of cookie {self:?}");
    }
}

/// Every `Set-Cookie` line of a response.
pub fn set_cookies(r: &Response) -> Vec<SetCookie> {
    r.all("set-cookie")
        .iter()
        .map(|l| SetCookie::parse(l))
        .collect()
}

/// The one `Set-Cookie` for `name`; panics when there is none or more than one.
pub fn set_cookie(r: &Response, name: &str) -> SetCookie {
    let found: Vec<SetCookie> = set_cookies(r)
        .into_iter()
        .filter(|c| c.name == name)
        .collect();
    assert_eq!(found.len(), 1, "one Set-Cookie for {name} expected: {r:#?}");
    found.into_iter().next().unwrap()
}

/// Whether any `Set-Cookie` names `name`.
pub fn sets_cookie(r: &Response, name: &str) -> bool {
    set_cookies(r).iter().any(|c| c.name == name)
}

/// The `value` of the form field named `name`, HTML-unescaped.
pub fn form_value(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("name=\"{name}\""))?;
    let start = body[..at].rfind('<')?;
    let end = at + body[at..].find('>')?;
    let tag = &body[start..end];
    let value = tag.split_once("value=\"")?.1.split('"').next()?;
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Whether the body has an `<input>` named `name` of this type.
pub fn has_input(body: &str, name: &str, kind: Option<&str>) -> bool {
    let Some(at) = body.find(&format!("name=\"{name}\"")) else {
        return false;
    };
    let (Some(start), Some(end)) = (body[..at].rfind('<'), body[at..].find('>')) else {
        return false;
    };
    let tag = &body[start..at + end];
    tag.starts_with("<input") && kind.is_none_or(|k| tag.contains(&format!("type=\"{k}\"")))
}

/// `warden_session=TOKEN`.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION}={token}")
}

/// A login (or logout) page as fetched: its CSRF token, checked by cookie and field to agree.
#[derive(Debug)]
pub struct FormPage {
    pub csrf: String,
    pub response: Response,
}

impl Warden {
    /// `GET target` (the login or logout page), checked to carry a CSRF cookie equal to the
    /// form's hidden `csrf` field.
    pub fn form_page(&self, target: &str, headers: &[(&str, &str)]) -> FormPage {
        let r = self.get(target, headers);
        assert_eq!(r.status, 200, "{target}: {r:#?}");
        let cookie = set_cookie(&r, CSRF);
        let field = form_value(&r.body, "csrf").unwrap_or_else(|| panic!("no csrf field: {r:#?}"));
        assert!(!field.is_empty(), "empty csrf token: {r:#?}");
        assert_eq!(cookie.value, field, "the CSRF cookie and field must agree");
        FormPage {
            csrf: field,
            response: r,
        }
    }

    /// POSTs the login form with a matching CSRF cookie; `cookies` are sent along on the same
    /// `Cookie` line (e.g. a session the browser already has).
    pub fn post_login(
        &self,
        csrf: &str,
        cookies: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Response {
        self.post_with_csrf(LOGIN, csrf, cookies, headers, fields)
    }

    /// POSTs a form to `target` with `warden_csrf=csrf` (+ `cookies`) and the `csrf` field.
    pub fn post_with_csrf(
        &self,
        target: &str,
        csrf: &str,
        cookies: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Response {
        let mut cookie = format!("{CSRF}={csrf}");
        if !cookies.is_empty() {
            cookie.push_str("; ");
            cookie.push_str(cookies);
        }
        let mut all = vec![("Cookie", cookie.as_str())];
        all.extend_from_slice(headers);
        let mut form = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        self.post_form(target, &all, &form)
    }

    /// Signs in through the form (fresh page, `rd=/`), sending `cookies` along; the answer.
    pub fn sign_in_with(&self, user: &str, password: &str, cookies: &str) -> Response {
        let page = self.form_page(LOGIN, &[]);
        self.post_login(
            &page.csrf,
            cookies,
            &[],
            &[("rd", "/"), ("username", user), ("password", password)],
        )
    }

    /// Signs in through the form and returns the new session token.
    pub fn sign_in(&self, user: &str, password: &str) -> String {
        let r = self.sign_in_with(user, password, "");
        assert_eq!(r.status, 303, "sign-in of {user}: {r:#?}");
        let token = set_cookie(&r, SESSION).value;
        assert!(token.starts_with("wds_"), "not a session token: {token}");
        token
    }
}

/// Milliseconds since the Unix epoch (the failed-attempt windows are aligned to it).
#[allow(clippy::disallowed_methods)] // tests read the wall clock to line up with the server's
pub fn unix_millis() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

/// Failed attempts are counted in fixed windows (`now / window`): waits, when needed, until the
/// current window has at least `need` left, so a test's failures all land in one window.
pub fn room_in_window(window_secs: u64, need: Duration) {
    let window = window_secs * 1000;
    let need = u64::try_from(need.as_millis()).unwrap();
    assert!(need < window, "a window of {window_secs} s is too short");
    let left = window - unix_millis() % window;
    if left < need {
        std::thread::sleep(Duration::from_millis(left + 20));
    }
}
