//! Denial bodies: problem+json (RFC 9457), a small HTML page, or plain text. No internals.

use crate::negotiate::BodyKind;
use crate::response::{Denial, RenderContext};

/// The content type and body for a denial, stating the status actually sent.
pub(crate) fn body(denial: &Denial<'_>, ctx: &RenderContext<'_>) -> (&'static str, String) {
    let status = denial.status;
    let title = status.canonical_reason().unwrap_or("Error");
    let id = ctx.decision_id;
    match ctx.facts.body_kind {
        BodyKind::Problem => {
            let request_id = ctx.facts.request_id.as_deref();
            let body = problem(denial, title, id, request_id);
            ("application/problem+json", body)
        }
        BodyKind::Plain => (
            "text/plain; charset=utf-8",
            format!(
                "{} {title}: {}\ndecision: {id}\n",
                status.as_u16(),
                denial.detail
            ),
        ),
        BodyKind::Html => ("text/html; charset=utf-8", html(denial, title, id)),
    }
}

/// RFC 9457 problem details. A borrowed struct, not a `json!` map: this body is written for
/// most denials, and the map's allocations were most of the cost of rendering one.
#[derive(serde::Serialize)]
struct Problem<'a> {
    r#type: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    instance: String,
    decision_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

fn problem(denial: &Denial<'_>, title: &str, id: &str, request_id: Option<&str>) -> String {
    let problem = Problem {
        r#type: "about:blank",
        title,
        status: denial.status.as_u16(),
        detail: &denial.detail,
        code: denial.code,
        instance: format!("urn:warden:decision:{id}"),
        decision_id: id,
        request_id,
    };
    // Serializing plain strings and numbers cannot fail.
    serde_json::to_string(&problem).unwrap_or_default()
}

fn html(denial: &Denial<'_>, title: &str, id: &str) -> String {
    let who = denial.identity.map_or_else(String::new, |i| {
        format!(
            "<p>You are signed in as <strong>{}</strong>.</p>\n",
            escape(&i.subject)
        )
    });
    let action = denial
        .login_link
        .as_ref()
        .map_or_else(String::new, |(href, label)| {
            format!(
                "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
                escape(href),
                escape(label)
            )
        });
    document(
        &format!("{} {title}", denial.status.as_u16()),
        &format!(
            "<h1>{}</h1>\n<p>{}</p>\n{who}{action}<p><small>Decision {}</small></p>\n",
            escape(title),
            escape(&denial.detail),
            escape(id)
        ),
    )
}

/// The small page sent with a redirect to the login page.
pub(crate) fn redirect(location: &str) -> String {
    let href = escape(location);
    document(
        "Sign in",
        &format!("<h1>Sign in</h1>\n<p><a href=\"{href}\">Continue to the sign-in page</a>.</p>\n"),
    )
}

/// A complete HTML document with warden's minimal style; no external assets.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         small{{color:#666}}label{{display:block;margin:.75rem 0 .25rem}}input{{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}}\
         .button,button{{display:inline-block;font:inherit;margin-top:1rem;padding:.5rem 1rem;border:1px solid #246;background:#246;color:#fff;border-radius:4px;text-decoration:none;cursor:pointer}}\
         .error{{color:#a00}}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query component: everything but unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
