//! `warden user …` and `warden key …`: thin calls into the store.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::Context as _;
use warden_core::Config;
use warden_store::{SqliteStore, Store};

use crate::cli::{KeyCommand, UserCommand};

async fn open(config: &Config) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&config.data_dir)
        .await
        .with_context(|| format!("cannot open the store in `{}`", config.data_dir.display()))
}

/// Runs a user command.
pub async fn user(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open(&config).await?;
    match command {
        UserCommand::Add { name, roles, .. } => {
            store.add_user(&name, &read_password()?, &roles).await?;
            println!("added user `{name}`");
        }
        UserCommand::List => {
            println!("{:<24} {:<9} ROLES", "NAME", "STATUS");
            for u in store.list_users().await? {
                let status = if u.disabled { "disabled" } else { "active" };
                println!("{:<24} {status:<9} {}", u.name, u.roles.join(","));
            }
        }
        UserCommand::Disable { name } => {
            store.set_user_disabled(&name, true).await?;
            println!("disabled user `{name}`");
        }
        UserCommand::Enable { name } => {
            store.set_user_disabled(&name, false).await?;
            println!("enabled user `{name}`");
        }
        UserCommand::Passwd { name, .. } => {
            store.set_password(&name, &read_password()?).await?;
            println!("changed the password of `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a key command.
pub async fn key(config: Config, command: KeyCommand) -> anyhow::Result<ExitCode> {
    let store = open(&config).await?;
    match command {
        KeyCommand::Create { name, roles } => {
            let key = store.create_api_key(&name, &roles).await?;
            eprintln!(
                "created key {} for `{name}`; it is shown once, store it now:",
                key.id
            );
            println!("{}", key.plaintext);
        }
        KeyCommand::List => {
            println!("{:<14} {:<24} {:<8} ROLES", "ID", "NAME", "STATUS");
            for k in store.list_api_keys().await? {
                let status = if k.revoked { "revoked" } else { "active" };
                println!(
                    "{:<14} {:<24} {status:<8} {}",
                    k.id,
                    k.name,
                    k.roles.join(",")
                );
            }
        }
        KeyCommand::Revoke { id } => {
            store.revoke_api_key(&id).await?;
            println!("revoked key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line from standard input, without its line ending; empty passwords are refused.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or("").to_owned();
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    Ok(password)
}
