//! The sign-in and sign-out pages: server-rendered, no scripts, no external assets.

use warden_core::page::{document, escape};
use warden_core::response::LOGIN_PATH;

/// What the login form says above the fields.
pub enum Notice<'a> {
    /// Nothing.
    None,
    /// The last attempt failed (same words for every reason).
    Failed,
    /// Someone is signed in and asked to switch.
    Switching(&'a str),
}

/// A "Sign in with …" link to an identity provider.
pub struct Button {
    /// Where it goes (`/.warden/oidc/start?provider=…`).
    pub href: String,
    /// The provider's display name.
    pub label: String,
}

/// The sign-in page: a button per identity provider, then the password form (carrying the
/// CSRF token and the return address) when passwords are accepted.
pub fn login(
    csrf: &str,
    rd: &str,
    notice: &Notice<'_>,
    buttons: &[Button],
    password: bool,
) -> String {
    let notice = match notice {
        Notice::None => String::new(),
        Notice::Failed => {
            "<p class=\"error\" role=\"alert\">The user name or password is wrong.</p>\n".to_owned()
        }
        Notice::Switching(user) => format!(
            "<p>You are signed in as <strong>{}</strong>. Sign in as someone else below.</p>\n",
            escape(user)
        ),
    };
    let buttons: String = buttons
        .iter()
        .map(|b| {
            format!(
                "<p><a class=\"button\" href=\"{}\">Sign in with {}</a></p>\n",
                escape(&b.href),
                escape(&b.label)
            )
        })
        .collect();
    let form = if password {
        format!(
            "<form method=\"post\" action=\"{LOGIN_PATH}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"rd\" value=\"{rd}\">\n\
             <label for=\"username\">User name</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\n\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
             <button type=\"submit\">Sign in</button>\n</form>\n",
            csrf = escape(csrf),
            rd = escape(rd),
        )
    } else {
        String::new()
    };
    document(
        "Sign in",
        &format!("<h1>Sign in</h1>\n{notice}{buttons}{form}"),
    )
}

/// The sign-out confirmation.
pub fn logout(csrf: &str, user: Option<&str>) -> String {
    let who = user.map_or_else(String::new, |u| {
        format!(
            "<p>You are signed in as <strong>{}</strong>.</p>\n",
            escape(u)
        )
    });
    document(
        "Sign out",
        &format!(
            "<h1>Sign out</h1>\n{who}<form method=\"post\" action=\"/.warden/logout\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n<button type=\"submit\">Sign out</button>\n</form>\n",
            escape(csrf)
        ),
    )
}

/// A short message page (expired form, too many attempts, store down).
pub fn message(title: &str, text: &str, link: Option<(&str, &str)>) -> String {
    let link = link.map_or_else(String::new, |(href, label)| {
        format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
            escape(href),
            escape(label)
        )
    });
    document(
        title,
        &format!(
            "<h1>{}</h1>\n<p>{}</p>\n{link}",
            escape(title),
            escape(text)
        ),
    )
}
