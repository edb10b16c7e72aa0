//! Where a denied browser is sent to sign in: the login page with its return address (`rd`)
//! and, for a step-up, the `acr_values` and `max_age` the sign-in page passes on.

use crate::decision::Deny;
use crate::identity::Rejection;
use crate::negotiate::BodyKind;
use crate::page;
use crate::response::{LOGIN_PATH, RenderContext};
use crate::rules::Rule;
use crate::step_up::StepUp;

/// A browser navigation on a rule with login on.
pub(crate) fn wants_login(rule: Option<&Rule>, ctx: &RenderContext<'_>) -> bool {
    ctx.config.login.is_some()
        && rule.is_some_and(|r| r.login)
        && ctx.facts.body_kind == BodyKind::Html
}

/// The login page with the return address, for a browser that needs to sign in (again); never
/// for API clients, and not right after a sign-in (that would loop).
pub(crate) fn redirect_to_login(
    why: &Deny,
    rule: Option<&Rule>,
    ctx: &RenderContext<'_>,
) -> Option<String> {
    let extra = match why {
        Deny::Unauthenticated | Deny::Rejected(Rejection::SessionEnded) => String::new(),
        Deny::StepUp {
            acr,
            max_age,
            shortfall,
            ..
        } => StepUp {
            acr,
            max_age: *max_age,
            shortfall: *shortfall,
        }
        .login_query(),
        _ => return None,
    };
    (wants_login(rule, ctx) && !ctx.facts.just_signed_in).then(|| login_url(ctx, &extra))
}

/// "Sign in as someone else", on a forbidden page.
pub(crate) fn switch_link(
    rule: Option<&Rule>,
    ctx: &RenderContext<'_>,
) -> Option<(String, &'static str)> {
    (ctx.config.login.is_some() && rule.is_some_and(|r| r.login)).then(|| {
        let href = format!(
            "{LOGIN_PATH}?switch=1&rd={}",
            page::encode_component(&ctx.facts.target)
        );
        (href, "Sign in as someone else")
    })
}

/// The way out of a 401 page shown instead of a redirect: the login page, once more (with a
/// step-up's parameters, `extra`).
pub(crate) fn sign_in_again(
    ctx: &RenderContext<'_>,
    extra: &str,
) -> Option<(String, &'static str)> {
    ctx.config.login.as_ref()?;
    Some((login_url(ctx, extra), "Sign in again"))
}

fn login_url(ctx: &RenderContext<'_>, extra: &str) -> String {
    format!(
        "{LOGIN_PATH}?rd={}{extra}",
        page::encode_component(&ctx.facts.target)
    )
}
