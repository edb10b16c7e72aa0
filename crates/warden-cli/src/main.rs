//! The `warden` binary: parse the command line, dispatch, report errors.

mod admin;
mod check;
mod cli;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use warden_core::Config;

use cli::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
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
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
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
        Command::User { command } => admin::user(load(config_path)?, command).await,
        Command::Key { command } => admin::key(load(config_path)?, command).await,
    }
}

async fn serve(path: &Path) -> anyhow::Result<ExitCode> {
    let config = load(path)?;
    let listen = config.listen;
    let app = warden_server::build_app(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    tracing::info!(listen = %bound, "warden is listening");
    warden_server::serve::serve(listener, app).await?;
    Ok(ExitCode::SUCCESS)
}

fn config_check(path: &Path) -> anyhow::Result<ExitCode> {
    match read_config(path)? {
        Ok(config) => {
            println!(
                "{}: ok ({} rules)",
                path.display(),
                config.rules.rules().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for issue in &errors.issues {
                eprintln!("{}:{issue}", path.display());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Loads a configuration or fails with every problem listed.
pub(crate) fn load(path: &Path) -> anyhow::Result<Config> {
    read_config(path)?.map_err(|errors| {
        let lines: Vec<String> = errors
            .issues
            .iter()
            .map(|i| format!("{}:{i}", path.display()))
            .collect();
        anyhow::anyhow!("invalid configuration\n{}", lines.join("\n"))
    })
}

fn read_config(path: &Path) -> anyhow::Result<Result<Config, warden_core::config::ConfigErrors>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Config::parse(&text, base))
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
