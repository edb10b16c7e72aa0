//! The `warden` binary: parse the command line, dispatch, report errors.

mod admin;
mod check;
mod cli;
mod log_time;
mod policy_test;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use warden_core::Config;
use warden_core::config::{Severity, nginx_notes};
use warden_server::LoadError;

use cli::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Dropping it writes out the lines still queued.
    let log_guard = init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Every log line out before the final error, so the error is the last thing printed.
    drop(log_guard);
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli.config.as_path();
    match cli.command {
        Command::Serve => serve(config_path).await,
        Command::Config {
            command: ConfigCommand::Check,
        } => config_check(config_path),
        Command::Check(args) => check::run(load(config_path)?, args).await,
        Command::Test(args) => Ok(policy_test::run(&args)),
        Command::User { command } => admin::user(load(config_path)?, command).await,
        Command::Key { command } => admin::key(load(config_path)?, command).await,
        Command::Session { command } => admin::session(load(config_path)?, command).await,
        Command::Migrate => admin::migrate(load(config_path)?).await,
    }
}

async fn serve(path: &Path) -> anyhow::Result<ExitCode> {
    // The recorder must be in place before the first app registers its handles.
    if load(path)?.admin.is_some() {
        warden_server::metrics::install();
    }
    let live = warden_server::Live::start(path)
        .await
        .map_err(|e| explain(path, e))?;
    let app = live.app();
    let config = app.engine().config();
    let tls = warden_server::tls_acceptor(config)?;
    let listen = config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    if config.proxy.is_none() {
        log_nginx_notes(config);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let upstream = config.proxy.as_ref().map(|p| p.upstream.to_string());
    let mode = if upstream.is_some() {
        "reverse proxy"
    } else {
        "decision server"
    };
    if let Some(admin) = &config.admin {
        let admin = tokio::net::TcpListener::bind(admin.listen)
            .await
            .with_context(|| format!("cannot listen on {} (`admin.listen`)", admin.listen))?;
        let admin_bound = admin.local_addr().unwrap_or(listen);
        tracing::info!(listen = %admin_bound, "admin listener is up");
        tokio::spawn(warden_server::admin::serve(admin, live.clone()));
    }
    if config.watch {
        warden_server::watch::start(live.clone()).context("cannot watch the configuration")?;
    }
    warden_server::live::reload_on_hangup(live.clone());
    tracing::info!(listen = %bound, scheme, mode, upstream, "warden is listening");
    warden_server::serve::serve(listener, live.clone(), tls).await?;
    if let Some(audit) = live.app().audit() {
        audit.sync(std::time::Duration::from_secs(5));
    }
    Ok(ExitCode::SUCCESS)
}

/// Behind nginx `auth_request`, some answers need the `error_page` recipe; say which, once.
fn log_nginx_notes(config: &Config) {
    for note in nginx_notes(config) {
        match note.severity {
            Severity::Error500 => tracing::warn!(note = %note.message, "behind nginx auth_request"),
            Severity::Mapped => tracing::info!(note = %note.message, "behind nginx auth_request"),
        }
    }
}

fn config_check(path: &Path) -> anyhow::Result<ExitCode> {
    match warden_server::read_config(path) {
        Ok(config) => {
            if let Err(e) = warden_server::backends::check(&config) {
                eprintln!("{}: {e}", path.display());
                return Ok(ExitCode::FAILURE);
            }
            if let Err(e) = warden_server::oidc::check_secrets(&config) {
                eprintln!("{}: {e}", path.display());
                return Ok(ExitCode::FAILURE);
            }
            let rules = config.rules.rules().len();
            println!("{}: ok ({rules} rules)", path.display());
            let notes = nginx_notes(&config);
            if !notes.is_empty() {
                println!("behind nginx auth_request (/.warden/nginx):");
            }
            for note in notes {
                let mark = match note.severity {
                    Severity::Error500 => "warning",
                    Severity::Mapped => "note",
                };
                println!("  {mark}: {}", note.message);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid { errors, .. }) => {
            eprint!("{}", located(path, &errors));
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// The error and its causes on one line, each cause once: many errors already repeat their
/// cause in their own message.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Loads a configuration or fails with every problem listed.
pub(crate) fn load(path: &Path) -> anyhow::Result<Config> {
    warden_server::read_config(path).map_err(|e| explain(path, e))
}

/// Config problems listed with their locations; other load errors as they are.
fn explain(path: &Path, error: LoadError) -> anyhow::Error {
    match error {
        LoadError::Invalid { errors, .. } => {
            anyhow::anyhow!("invalid configuration\n{}", located(path, &errors))
        }
        other => other.into(),
    }
}

/// One `FILE:line L, column C: `key`: message` line per problem.
fn located(path: &Path, errors: &warden_core::config::ConfigErrors) -> String {
    errors
        .issues
        .iter()
        .map(|i| format!("{}:{i}\n", path.display()))
        .collect()
}

/// Logs go to stderr from a writer thread: a request hands its line over a channel and never
/// waits on the write itself; lines queued during a burst go out in one write. No line is
/// dropped: when the queue is full the request waits (`lossy(false)`).
fn init_logging(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The queue's slots are allocated and touched up front: the default 128 000 lines
        // would keep about 5 MiB resident; 8 192 lines are seconds of logging at full load.
        .buffered_lines_limit(8192)
        .thread_name("warden-log")
        .finish(stderr);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_timer(log_time::LogTime)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.fmt_fields(plain_fields()).init();
    }
    guard
}

/// `key=value` fields without the default formatter's per-field styling, which cost more than
/// the rest of a decision line together (the values format themselves: see the decision log).
fn plain_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        if field.name() == "message" {
            write!(w, "{value:?}")
        } else {
            write!(w, "{field}={value:?}")
        }
    })
    .delimited(" ")
}
