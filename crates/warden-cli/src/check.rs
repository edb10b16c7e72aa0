//! `warden check`: explain one decision (rule, identity, verdict, status, headers) offline.

use std::process::ExitCode;

use anyhow::Context as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use warden_core::{Config, Deny, Flavour, Verdict};

use crate::cli::CheckArgs;

/// Evaluates the request described by the arguments with the real engine and store.
pub async fn run(config: Config, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .context("invalid method")?;
    let uri: Uri = args
        .path
        .parse()
        .with_context(|| format!("invalid path `{}`", args.path))?;
    let headers = headers(&args.headers)?;
    let app = warden_server::build_app(config).await?;
    let request = warden_server::app::parts(&method, &uri, &headers, args.peer, false);
    let eval = app.evaluate(request, Flavour::Generic).await;
    println!("request:  {} {}", eval.facts.method, eval.facts.path);
    println!(
        "rule:     {}",
        eval.decision
            .rule
            .as_ref()
            .map_or("(none: default deny)", |r| r.name.as_str())
    );
    let (identity, decision) = match &eval.decision.verdict {
        Verdict::Allow(identity) => (identity.as_ref(), "allow".to_owned()),
        Verdict::Deny(why) => (why.identity(), format!("deny ({})", why.reason())),
        Verdict::Preflight => (None, "CORS preflight (answered, not judged)".to_owned()),
    };
    match identity {
        Some(id) => println!(
            "identity: {} via {} (roles: {}; scopes: {}; acr: {}; auth_time: {})",
            id.subject,
            id.method,
            id.roles.join(","),
            id.scopes.join(" "),
            id.acr.as_deref().unwrap_or("-"),
            id.auth_time
                .map_or_else(|| "-".to_owned(), |t| t.to_string()),
        ),
        None => println!("identity: (none)"),
    }
    println!("decision: {decision}");
    if let Some(rule) = &eval.decision.rule {
        let now = warden_server::clock::now_unix();
        let explained = (app.engine()).explain_conditions(rule, identity, &eval.facts, now);
        print_conditions(explained.as_deref().unwrap_or_default());
    }
    if let Verdict::Deny(Deny::StepUp { acr, max_age, .. }) = &eval.decision.verdict {
        println!("needs:    {}", step_up_needs(acr, *max_age));
    }
    println!("status:   {}", eval.outcome.status);
    for (name, value) in &eval.outcome.headers {
        println!("  {name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    if !eval.outcome.body.is_empty() {
        println!("body:\n{}", eval.outcome.body.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// Each condition with its outcome and the values it read. Credentials never reach a
/// condition, so none can show here.
fn print_conditions(explained: &[warden_core::policy::Explained]) {
    if explained.is_empty() {
        return;
    }
    println!("conditions:");
    for c in explained {
        let mark = match &c.outcome {
            Ok(true) => "holds".to_owned(),
            Ok(false) => "FAILS".to_owned(),
            Err(e) => format!("ERROR ({e})"),
        };
        println!("  {mark}  {}: {}", c.origin, c.text);
        for (path, value) in &c.values {
            println!("           {path} = {value}");
        }
    }
}

/// What a step-up rule asks, in words: a sign-in again can meet it, a new role cannot.
fn step_up_needs(acr: &[String], max_age: Option<u64>) -> String {
    let mut needs = Vec::new();
    if !acr.is_empty() {
        needs.push(format!("acr one of {}", acr.join(", ")));
    }
    if let Some(seconds) = max_age {
        needs.push(format!("a sign-in within the last {seconds} s"));
    }
    format!("{} (sign in again to meet it)", needs.join(" and "))
}

fn headers(raw: &[String]) -> anyhow::Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for line in raw {
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("header `{line}` needs `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .with_context(|| format!("invalid header name in `{line}`"))?;
        let value = HeaderValue::from_str(value.trim())
            .with_context(|| format!("invalid header value in `{line}`"))?;
        map.append(name, value);
    }
    Ok(map)
}
