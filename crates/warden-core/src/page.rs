//! Denial bodies: problem+json (RFC 9457), a small HTML page, or plain text. No internals.

use http::StatusCode;

use crate::negotiate::BodyKind;
use crate::response::{Denial, RenderContext};

/// The content type and body for a denial sent with `status`.
pub(crate) fn body(
    denial: &Denial<'_>,
    status: StatusCode,
    ctx: &RenderContext<'_>,
) -> (&'static str, String) {
    let title = status.canonical_reason().unwrap_or("Error");
    match ctx.body_kind {
        BodyKind::Problem => (
            "application/problem+json",
            problem(denial, status, title, ctx.decision_id),
        ),
        BodyKind::Plain => (
            "text/plain; charset=utf-8",
            format!(
                "{} {title}: {}\ndecision: {}\n",
                status.as_u16(),
                denial.detail,
                ctx.decision_id
            ),
        ),
        BodyKind::Html => (
            "text/html; charset=utf-8",
            html(denial, status, title, ctx.decision_id),
        ),
    }
}

fn problem(denial: &Denial<'_>, status: StatusCode, title: &str, id: &str) -> String {
    serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": denial.detail,
        "code": denial.code,
        "instance": format!("urn:warden:decision:{id}"),
        "decision_id": id,
    })
    .to_string()
}

fn html(denial: &Denial<'_>, status: StatusCode, title: &str, id: &str) -> String {
    let who = denial.identity.map_or_else(String::new, |i| {
        format!(
            "<p>You are signed in as <strong>{}</strong>.</p>\n",
            escape(&i.subject)
        )
    });
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{code} {title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         small{{color:#666}}</style></head>\n<body>\n<h1>{title}</h1>\n<p>{detail}</p>\n{who}\
         <p><small>Decision {id}</small></p>\n</body></html>\n",
        code = status.as_u16(),
        title = escape(title),
        detail = escape(&denial.detail),
        id = escape(id),
    )
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
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
